//! The closed sets a plan chooses from: worker types, host roles, storage, pool modes.

/// The playbook's Synapse worker types (matrix-docker-ansible-deploy
/// `roles/custom/matrix-synapse/defaults/main.yml`, `matrix_synapse_workers_*_count`;
/// names and ports: shared/reference/worker-port-scheme.tsv).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkerKind {
    Sync,
    ClientReader,
    FederationReader,
    FederationSender,
    Room,
    Generic,
    Pusher,
    Appservice,
    UserDir,
    Background,
    MediaRepository,
    StreamWriterEvents,
    StreamWriterTyping,
    StreamWriterToDevice,
    StreamWriterAccountData,
    StreamWriterReceipts,
    StreamWriterPresence,
    StreamWriterPushRules,
    StreamWriterDeviceLists,
}

impl WorkerKind {
    pub const ALL: [WorkerKind; 19] = [
        WorkerKind::Sync,
        WorkerKind::ClientReader,
        WorkerKind::FederationReader,
        WorkerKind::FederationSender,
        WorkerKind::Room,
        WorkerKind::Generic,
        WorkerKind::Pusher,
        WorkerKind::Appservice,
        WorkerKind::UserDir,
        WorkerKind::Background,
        WorkerKind::MediaRepository,
        WorkerKind::StreamWriterEvents,
        WorkerKind::StreamWriterTyping,
        WorkerKind::StreamWriterToDevice,
        WorkerKind::StreamWriterAccountData,
        WorkerKind::StreamWriterReceipts,
        WorkerKind::StreamWriterPresence,
        WorkerKind::StreamWriterPushRules,
        WorkerKind::StreamWriterDeviceLists,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The key under `synapse.workers` in a plan file.
    pub fn key(self) -> &'static str {
        match self {
            WorkerKind::Sync => "sync",
            WorkerKind::ClientReader => "client-reader",
            WorkerKind::FederationReader => "federation-reader",
            WorkerKind::FederationSender => "federation-sender",
            WorkerKind::Room => "room",
            WorkerKind::Generic => "generic",
            WorkerKind::Pusher => "pusher",
            WorkerKind::Appservice => "appservice",
            WorkerKind::UserDir => "user-dir",
            WorkerKind::Background => "background",
            WorkerKind::MediaRepository => "media-repository",
            WorkerKind::StreamWriterEvents => "stream-writer-events",
            WorkerKind::StreamWriterTyping => "stream-writer-typing",
            WorkerKind::StreamWriterToDevice => "stream-writer-to-device",
            WorkerKind::StreamWriterAccountData => "stream-writer-account-data",
            WorkerKind::StreamWriterReceipts => "stream-writer-receipts",
            WorkerKind::StreamWriterPresence => "stream-writer-presence",
            WorkerKind::StreamWriterPushRules => "stream-writer-push-rules",
            WorkerKind::StreamWriterDeviceLists => "stream-writer-device-lists",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WorkerKind::Sync => "Sync workers",
            WorkerKind::ClientReader => "Client readers",
            WorkerKind::FederationReader => "Federation readers",
            WorkerKind::FederationSender => "Federation senders",
            WorkerKind::Room => "Room workers",
            WorkerKind::Generic => "Generic workers",
            WorkerKind::Pusher => "Pushers",
            WorkerKind::Appservice => "Appservice worker",
            WorkerKind::UserDir => "User directory worker",
            WorkerKind::Background => "Background worker",
            WorkerKind::MediaRepository => "Media repository workers",
            WorkerKind::StreamWriterEvents => "Event persisters",
            WorkerKind::StreamWriterTyping => "Typing stream writer",
            WorkerKind::StreamWriterToDevice => "To-device stream writer",
            WorkerKind::StreamWriterAccountData => "Account-data stream writer",
            WorkerKind::StreamWriterReceipts => "Receipts stream writer",
            WorkerKind::StreamWriterPresence => "Presence stream writer",
            WorkerKind::StreamWriterPushRules => "Push-rules stream writer",
            WorkerKind::StreamWriterDeviceLists => "Device-lists stream writer",
        }
    }

    /// The playbook variable that sets this type's count.
    pub fn playbook_count_var(self) -> &'static str {
        match self {
            WorkerKind::Sync => "matrix_synapse_workers_sync_workers_count",
            WorkerKind::ClientReader => "matrix_synapse_workers_client_reader_workers_count",
            WorkerKind::FederationReader => {
                "matrix_synapse_workers_federation_reader_workers_count"
            }
            WorkerKind::FederationSender => {
                "matrix_synapse_workers_federation_sender_workers_count"
            }
            WorkerKind::Room => "matrix_synapse_workers_room_workers_count",
            WorkerKind::Generic => "matrix_synapse_workers_generic_workers_count",
            WorkerKind::Pusher => "matrix_synapse_workers_pusher_workers_count",
            WorkerKind::Appservice => "matrix_synapse_workers_appservice_workers_count",
            WorkerKind::UserDir => "matrix_synapse_workers_user_dir_workers_count",
            WorkerKind::Background => "matrix_synapse_workers_background_workers_count",
            WorkerKind::MediaRepository => "matrix_synapse_workers_media_repository_workers_count",
            WorkerKind::StreamWriterEvents => {
                "matrix_synapse_workers_stream_writer_events_stream_workers_count"
            }
            WorkerKind::StreamWriterTyping => {
                "matrix_synapse_workers_stream_writer_typing_stream_workers_count"
            }
            WorkerKind::StreamWriterToDevice => {
                "matrix_synapse_workers_stream_writer_to_device_stream_workers_count"
            }
            WorkerKind::StreamWriterAccountData => {
                "matrix_synapse_workers_stream_writer_account_data_stream_workers_count"
            }
            WorkerKind::StreamWriterReceipts => {
                "matrix_synapse_workers_stream_writer_receipts_stream_workers_count"
            }
            WorkerKind::StreamWriterPresence => {
                "matrix_synapse_workers_stream_writer_presence_stream_workers_count"
            }
            WorkerKind::StreamWriterPushRules => {
                "matrix_synapse_workers_stream_writer_push_rules_stream_workers_count"
            }
            WorkerKind::StreamWriterDeviceLists => {
                "matrix_synapse_workers_stream_writer_device_lists_stream_workers_count"
            }
        }
    }

    /// Types the playbook refuses to run more than once
    /// (`roles/custom/matrix-synapse/tasks/validate_config.yml`, "Fail if asking for more
    /// than 1 instance of single-instance workers").
    pub fn single_instance(self) -> bool {
        matches!(
            self,
            WorkerKind::Appservice
                | WorkerKind::UserDir
                | WorkerKind::Background
                | WorkerKind::StreamWriterTyping
                | WorkerKind::StreamWriterToDevice
                | WorkerKind::StreamWriterAccountData
                | WorkerKind::StreamWriterReceipts
                | WorkerKind::StreamWriterPresence
                | WorkerKind::StreamWriterPushRules
        )
    }

    /// The specialised HTTP workers that must not be mixed with generic workers
    /// (playbook docs: configuring-playbook-synapse.md, "specialized-workers" preset).
    pub fn specialised(self) -> bool {
        matches!(
            self,
            WorkerKind::Room
                | WorkerKind::Sync
                | WorkerKind::ClientReader
                | WorkerKind::FederationReader
        )
    }

    pub fn is_stream_writer(self) -> bool {
        self.index() >= WorkerKind::StreamWriterEvents.index()
    }
}

/// Host roles of the topology (DESIGN.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Synapse,
    Patroni,
    Minio,
    Haproxy,
    Coturn,
    Livekit,
    Monitoring,
    Backup,
}

impl std::fmt::Display for Role {
    /// The role's key (`patroni`), as in the report's JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl serde::Serialize for Role {
    /// The role's key (`patroni`), as the report's JSON and the plan's paths name it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Synapse,
        Role::Patroni,
        Role::Minio,
        Role::Haproxy,
        Role::Coturn,
        Role::Livekit,
        Role::Monitoring,
        Role::Backup,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn key(self) -> &'static str {
        match self {
            Role::Synapse => "synapse",
            Role::Patroni => "patroni",
            Role::Minio => "minio",
            Role::Haproxy => "haproxy",
            Role::Coturn => "coturn",
            Role::Livekit => "livekit",
            Role::Monitoring => "monitoring",
            Role::Backup => "backup",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Synapse => "Synapse",
            Role::Patroni => "Patroni (PostgreSQL + etcd)",
            Role::Minio => "MinIO",
            Role::Haproxy => "HAProxy + keepalived",
            Role::Coturn => "coturn (TURN)",
            Role::Livekit => "LiveKit",
            Role::Monitoring => "Monitoring",
            Role::Backup => "Backup",
        }
    }

    /// The short host name of this role's `index`-th host (1-based): the bare role for
    /// roles that have one host at most (`synapse`), `<role><n>` otherwise (`patroni1`).
    /// The bundle's topology and validation's name-length rule both use it.
    pub fn host_name(self, index: u64) -> String {
        if self.count_bounds().1 == 1 {
            self.key().to_string()
        } else {
            format!("{}{index}", self.key())
        }
    }

    /// Where this role's hosts live in the subnet: (first offset, how many). Blocks hold
    /// each role's maximum count, so a host's address never depends on other roles'
    /// counts. .1 is left for a gateway and .10 is the default VIP.
    pub fn address_block(self) -> (u32, u32) {
        match self {
            Role::Haproxy => (11, 16),
            Role::Synapse => (27, 1),
            Role::Patroni => (28, 15),
            Role::Monitoring => (43, 1),
            Role::Backup => (44, 1),
            Role::Minio => (45, 64),
            Role::Coturn => (109, 64),
            Role::Livekit => (173, 64),
        }
    }

    /// Inclusive bounds on the number of hosts, and why when the range is narrow.
    pub fn count_bounds(self) -> (u64, u64, &'static str) {
        match self {
            Role::Synapse => (
                1,
                1,
                "matrix-docker-ansible-deploy runs Synapse and all its workers on one host",
            ),
            Role::Patroni => (
                1,
                15,
                "one PostgreSQL node per host; etcd runs on the same hosts",
            ),
            Role::Minio => (1, 64, "MinIO server pool nodes"),
            Role::Haproxy => (1, 16, "HAProxy nodes sharing the keepalived VIP"),
            Role::Coturn => (0, 64, "0 turns TURN (1:1 calls through NAT) off"),
            Role::Livekit => (0, 64, "0 turns LiveKit (group calls) off"),
            Role::Monitoring => (
                1,
                1,
                "the bundle deploys one Prometheus + Alertmanager + Grafana host",
            ),
            Role::Backup => (1, 1, "the bundle deploys one pgBackRest repository host"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    Hdd,
    Ssd,
    Nvme,
}

impl Storage {
    pub const KEYS: &'static [&'static str] = &["hdd", "ssd", "nvme"];

    pub fn key(self) -> &'static str {
        match self {
            Storage::Hdd => "hdd",
            Storage::Ssd => "ssd",
            Storage::Nvme => "nvme",
        }
    }

    pub fn from_key(s: &str) -> Option<Storage> {
        match s {
            "hdd" => Some(Storage::Hdd),
            "ssd" => Some(Storage::Ssd),
            "nvme" => Some(Storage::Nvme),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl serde::Serialize for PoolMode {
    /// The mode's key (`transaction`), as PgBouncer's pool_mode reads it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl PoolMode {
    pub const KEYS: &'static [&'static str] = &["session", "transaction", "statement"];

    pub fn key(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }

    pub fn from_key(s: &str) -> Option<PoolMode> {
        match s {
            "session" => Some(PoolMode::Session),
            "transaction" => Some(PoolMode::Transaction),
            "statement" => Some(PoolMode::Statement),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_match_all_order() {
        for (i, k) in WorkerKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    #[test]
    fn address_blocks_hold_the_maximum_count_and_do_not_overlap() {
        let mut used = std::collections::BTreeSet::new();
        for r in Role::ALL {
            let (first, len) = r.address_block();
            assert!(u64::from(len) >= r.count_bounds().1, "{r:?}");
            for o in first..first + len {
                assert!(o > 10 && o < 255 && used.insert(o), "{r:?} offset {o}");
            }
        }
    }

    #[test]
    fn playbook_count_vars_exist_in_reference() {
        let vars = include_str!("../../tests/data/playbook-vars.txt");
        for k in WorkerKind::ALL {
            assert!(
                vars.lines().any(|l| l == k.playbook_count_var()),
                "{} not a playbook variable",
                k.playbook_count_var()
            );
        }
    }
}
