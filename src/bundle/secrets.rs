//! Secrets the bundle needs: generated from random bytes the caller passes in (the
//! browser's Web Crypto, the OS's RNG in the CLI), or named placeholders.
//!
//! The core never draws randomness itself: [`Secrets::generate`] maps the bytes it is
//! given to characters, so the same bytes give the same secrets (tests rely on it).

use serde::Serialize;

/// Every secret of the deployment. Order is the order of `vault.yml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SecretId {
    /// matrix_homeserver_generic_secret_key: the playbook derives Synapse's macaroon,
    /// form and registration secrets from it.
    GenericSecretKey,
    /// Synapse's PostgreSQL role (through PgBouncer).
    SynapseDbPassword,
    /// PostgreSQL superuser `postgres`, used by Patroni.
    PostgresSuperuserPassword,
    /// PostgreSQL role `replicator` for streaming replication.
    ReplicationPassword,
    /// Patroni REST API basic auth for its unsafe (write) endpoints.
    PatroniRestPassword,
    /// PostgreSQL role `postgres_exporter` (pg_monitor).
    PostgresExporterPassword,
    /// PgBouncer admin/stats user for pgbouncer_exporter.
    PgbouncerStatsPassword,
    /// pgBackRest repository encryption (repo1-cipher-pass).
    PgbackrestCipherPass,
    /// coturn `static-auth-secret`, shared with Synapse's `turn_shared_secret`.
    TurnSharedSecret,
    /// MinIO root user's password.
    MinioRootPassword,
    /// Secret key of the MinIO user Synapse's S3 storage provider uses.
    MinioSynapseSecretKey,
    /// LiveKit API key name (not secret alone, but paired with the secret).
    LivekitApiKey,
    /// LiveKit API secret.
    LivekitApiSecret,
    /// `requirepass` of LiveKit's Redis.
    LivekitRedisPassword,
    /// Grafana's `admin` password.
    GrafanaAdminPassword,
    /// HAProxy stats page basic auth.
    HaproxyStatsPassword,
}

impl SecretId {
    pub const ALL: [SecretId; 16] = [
        SecretId::GenericSecretKey,
        SecretId::SynapseDbPassword,
        SecretId::PostgresSuperuserPassword,
        SecretId::ReplicationPassword,
        SecretId::PatroniRestPassword,
        SecretId::PostgresExporterPassword,
        SecretId::PgbouncerStatsPassword,
        SecretId::PgbackrestCipherPass,
        SecretId::TurnSharedSecret,
        SecretId::MinioRootPassword,
        SecretId::MinioSynapseSecretKey,
        SecretId::LivekitApiKey,
        SecretId::LivekitApiSecret,
        SecretId::LivekitRedisPassword,
        SecretId::GrafanaAdminPassword,
        SecretId::HaproxyStatsPassword,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// snake_case name; `vault_<name>` in vault.yml.
    pub fn name(self) -> &'static str {
        match self {
            SecretId::GenericSecretKey => "generic_secret_key",
            SecretId::SynapseDbPassword => "synapse_db_password",
            SecretId::PostgresSuperuserPassword => "postgres_superuser_password",
            SecretId::ReplicationPassword => "replication_password",
            SecretId::PatroniRestPassword => "patroni_rest_password",
            SecretId::PostgresExporterPassword => "postgres_exporter_password",
            SecretId::PgbouncerStatsPassword => "pgbouncer_stats_password",
            SecretId::PgbackrestCipherPass => "pgbackrest_cipher_pass",
            SecretId::TurnSharedSecret => "turn_shared_secret",
            SecretId::MinioRootPassword => "minio_root_password",
            SecretId::MinioSynapseSecretKey => "minio_synapse_secret_key",
            SecretId::LivekitApiKey => "livekit_api_key",
            SecretId::LivekitApiSecret => "livekit_api_secret",
            SecretId::LivekitRedisPassword => "livekit_redis_password",
            SecretId::GrafanaAdminPassword => "grafana_admin_password",
            SecretId::HaproxyStatsPassword => "haproxy_stats_password",
        }
    }

    /// The Ansible variable in vault.yml.
    pub fn vault_var(self) -> String {
        format!("vault_{}", self.name())
    }

    /// Length of a generated value. LiveKit refuses API secrets shorter than 32
    /// characters; the playbook asks for a long generic key (`pwgen -s 64 1`).
    pub fn length(self) -> usize {
        match self {
            SecretId::GenericSecretKey => 64,
            SecretId::LivekitApiKey => 16,
            SecretId::LivekitApiSecret => 48,
            _ => 32,
        }
    }

    /// What the secret is for, naming the user it belongs to (vault.yml's comments).
    pub fn description(self) -> String {
        use crate::deploy::facts::{DB_USER, HAPROXY_STATS_USER, MINIO_SYNAPSE_USER};
        match self {
            SecretId::GenericSecretKey => {
                "the playbook's matrix_homeserver_generic_secret_key".into()
            }
            SecretId::SynapseDbPassword => format!("PostgreSQL role {DB_USER}"),
            SecretId::PostgresSuperuserPassword => "PostgreSQL superuser postgres (Patroni)".into(),
            SecretId::ReplicationPassword => "PostgreSQL role replicator (Patroni)".into(),
            SecretId::PatroniRestPassword => "Patroni REST API, user patroni".into(),
            SecretId::PostgresExporterPassword => "PostgreSQL role postgres_exporter".into(),
            SecretId::PgbouncerStatsPassword => "PgBouncer stats user for its exporter".into(),
            SecretId::PgbackrestCipherPass => "pgBackRest repository encryption".into(),
            SecretId::TurnSharedSecret => {
                "coturn static-auth-secret = Synapse turn_shared_secret".into()
            }
            SecretId::MinioRootPassword => "MinIO root user".into(),
            SecretId::MinioSynapseSecretKey => {
                format!("MinIO user {MINIO_SYNAPSE_USER} (S3 secret key)")
            }
            SecretId::LivekitApiKey => "LiveKit API key".into(),
            SecretId::LivekitApiSecret => "LiveKit API secret".into(),
            SecretId::LivekitRedisPassword => "LiveKit's Redis requirepass".into(),
            SecretId::GrafanaAdminPassword => "Grafana admin".into(),
            SecretId::HaproxyStatsPassword => {
                format!("HAProxy stats page, user {HAPROXY_STATS_USER}")
            }
        }
    }
}

/// The values of every secret, or named placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets {
    values: Vec<String>,
    placeholders: bool,
}

/// Characters of generated secrets: letters and digits only, so a value needs no
/// quoting or escaping in YAML, INI, shell, URLs or connection strings.
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Secrets {
    /// Secrets from random bytes. `random` fills the buffer it is given; bytes are
    /// mapped by rejection sampling (values ≥ 248 are skipped) so every character is
    /// equally likely: 5.95 bits each, 190 bits for a 32-character secret.
    pub fn generate(mut random: impl FnMut(&mut [u8])) -> Secrets {
        let mut pool: Vec<u8> = Vec::new();
        let mut rejected = 0u32;
        let mut next = move || loop {
            if pool.is_empty() {
                let mut buf = [0u8; 256];
                random(&mut buf);
                pool.extend(buf.iter().rev());
            }
            let Some(b) = pool.pop() else { continue };
            // A real RNG rejects 8 bytes in 256; only a broken source rejects 4096 in a
            // row. Accept then rather than loop forever (the core never hangs).
            if b < 248 || rejected >= 4096 {
                rejected = 0;
                return ALPHABET[usize::from(b % 62)];
            }
            rejected += 1;
        };
        let values = SecretId::ALL
            .iter()
            .map(|id| {
                let body: String = (0..id.length()).map(|_| char::from(next())).collect();
                match id {
                    // LiveKit keys conventionally start with "API".
                    SecretId::LivekitApiKey => format!("API{}", &body[3..]),
                    _ => body,
                }
            })
            .collect();
        Secrets {
            values,
            placeholders: false,
        }
    }

    /// Named placeholders: `CHANGE_ME_SYNAPSE_DB_PASSWORD`, padded with `X` to the
    /// secret's length so tools that check a minimum length accept the file.
    pub fn placeholders() -> Secrets {
        let values = SecretId::ALL
            .iter()
            .map(|id| {
                let mut v = format!("CHANGE_ME_{}", id.name().to_ascii_uppercase());
                while v.len() < id.length() {
                    v.push('X');
                }
                v
            })
            .collect();
        Secrets {
            values,
            placeholders: true,
        }
    }

    pub fn get(&self, id: SecretId) -> &str {
        self.values
            .get(id.index())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn are_placeholders(&self) -> bool {
        self.placeholders
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut(&mut [u8]) {
        let mut n: u8 = 0;
        move |buf: &mut [u8]| {
            for b in buf {
                *b = n;
                n = n.wrapping_add(1);
            }
        }
    }

    #[test]
    fn generated_secrets_are_deterministic_distinct_and_alphanumeric() {
        let a = Secrets::generate(counter());
        let b = Secrets::generate(counter());
        assert_eq!(a, b);
        let mut seen = std::collections::BTreeSet::new();
        for id in SecretId::ALL {
            let v = a.get(id);
            assert_eq!(v.len(), id.length(), "{id:?}");
            assert!(v.bytes().all(|c| c.is_ascii_alphanumeric()), "{id:?}: {v}");
            assert!(seen.insert(v.to_string()), "{id:?} repeats");
        }
        assert!(a.get(SecretId::LivekitApiKey).starts_with("API"));
    }

    #[test]
    fn bytes_at_or_above_248_are_skipped() {
        // 248..=255 would fold onto A..H and bias them; they are dropped instead.
        let mut flip = false;
        let s = Secrets::generate(|buf: &mut [u8]| {
            for b in buf {
                *b = if flip { 0 } else { 250 };
                flip = !flip;
            }
        });
        assert!(
            s.get(SecretId::SynapseDbPassword)
                .bytes()
                .all(|c| c == b'A')
        );
        // A source that only gives rejected bytes still ends (with a biased value).
        let broken = Secrets::generate(|buf: &mut [u8]| buf.fill(255));
        assert_eq!(broken.get(SecretId::SynapseDbPassword).len(), 32);
    }

    #[test]
    fn placeholders_are_named_and_long_enough() {
        let p = Secrets::placeholders();
        assert!(p.are_placeholders());
        assert_eq!(
            p.get(SecretId::SynapseDbPassword),
            "CHANGE_ME_SYNAPSE_DB_PASSWORDXXX"
        );
        assert_eq!(p.get(SecretId::LivekitApiSecret).len(), 48);
    }
}
