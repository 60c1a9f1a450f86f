//! A figure on the page: its JSON path and value as attributes, its text for people.

use super::Computed;
use crate::report::{Unit, display, lookup};
use leptos::prelude::*;

/// `<span data-metric="hosts[0].ram-needed-gib" data-value="133.07">133.07 GiB</span>`:
/// the value is read from the report's JSON by the same path the CLI prints.
pub fn metric(c: &Computed, path: impl Into<String>, unit: Unit) -> AnyView {
    let path = path.into();
    let value = lookup(&c.json, &path)
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let text = display(&value, unit);
    view! { <span class="metric" data-metric=path data-value=value.to_string()>{text}</span> }
        .into_any()
}
