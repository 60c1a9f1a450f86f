//! Charts of object storage and call capacity.
