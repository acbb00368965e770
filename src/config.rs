//! Settings: command-line flags win over environment variables, which win over the optional
//! config file (TOML, same names with underscores), which wins over the defaults.

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "cairn",
    version,
    about = "An AWS-compatible audit-trail service: CloudTrail, Organizations, S3 and STS on one port"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server.
    Serve(ServeArgs),
    /// Administration of a data directory (works while the server runs).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Mint a long-term access key for an IAM user (created when missing) or the root of an
    /// existing account; prints it like `aws iam create-access-key`.
    CreateAccessKey(CreateAccessKeyArgs),
    /// Create an account outside any organization, with the role `OrganizationAccountAccessRole`
    /// trusted by the management account (what Organizations' CreateAccount also sets up).
    CreateAccount(CreateAccountArgs),
    /// Store the signing keys (a JWKS) of an IAM OIDC provider's issuer, which
    /// AssumeRoleWithWebIdentity verifies tokens with; Cairn cannot fetch them itself.
    PutOidcKeys(PutOidcKeysArgs),
}

#[derive(Args, Debug)]
pub struct PutOidcKeysArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The provider's ARN (`arn:aws:iam::<account>:oidc-provider/<host/path>`).
    #[arg(long)]
    pub provider_arn: String,
    /// A JWKS document (`{"keys": [...]}`, what the issuer's `jwks_uri` serves); `-` reads it
    /// from standard input.
    #[arg(long)]
    pub jwks_file: PathBuf,
}

#[derive(Args, Debug)]
pub struct CreateAccountArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The new 12-digit account id.
    #[arg(long)]
    pub account_id: String,
    #[arg(long, default_value = "Member")]
    pub name: String,
    #[arg(long, default_value = "member@example.com")]
    pub email: String,
}

#[derive(Args, Debug)]
pub struct CreateAccessKeyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The account that owns the user.
    #[arg(long)]
    pub account_id: String,
    /// The IAM user name.
    #[arg(long, conflicts_with = "root", required_unless_present = "root")]
    pub user_name: Option<String>,
    /// A key for the account's root user instead.
    #[arg(long)]
    pub root: bool,
}

/// The settings every subcommand shares: where the state lives and which account is in charge.
#[derive(Args, Debug, Default, Clone)]
pub struct CommonArgs {
    /// Config file (TOML).
    #[arg(long, env = "CAIRN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory that holds all state (default ./cairn-data).
    #[arg(long, env = "CAIRN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Master key that seals stored secrets (default: <data-dir>.key, beside the data directory).
    #[arg(long, env = "CAIRN_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Account id of the organization's management account (default 111111111111).
    #[arg(long, env = "CAIRN_MANAGEMENT_ACCOUNT_ID")]
    pub management_account_id: Option<String>,
}

#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address to listen on (default 127.0.0.1:4566).
    #[arg(long, env = "CAIRN_LISTEN")]
    pub listen: Option<String>,
    /// Access key id of the management account's `admin` user (default `test` on loopback).
    #[arg(long, env = "CAIRN_ADMIN_ACCESS_KEY_ID")]
    pub admin_access_key_id: Option<String>,
    /// Secret of that key (default `test` on loopback).
    #[arg(long, env = "CAIRN_ADMIN_SECRET_ACCESS_KEY")]
    pub admin_secret_access_key: Option<String>,
    /// Enable `POST /_cairn/reset` (and the test clock), for test suites.
    #[arg(long, env = "CAIRN_ALLOW_RESET", num_args = 0..=1, default_missing_value = "true")]
    pub allow_reset: Option<bool>,
    /// `process` (a commit survives kill -9) or `power` (fsync every commit).
    #[arg(long, env = "CAIRN_DURABILITY")]
    pub durability: Option<String>,
    /// Largest request body for the JSON and query protocols, in bytes.
    #[arg(long, env = "CAIRN_MAX_REQUEST_BODY")]
    pub max_request_body: Option<usize>,
    /// Record every call as a CloudTrail event (default true; false only to measure its cost).
    #[arg(long, env = "CAIRN_RECORDING")]
    pub recording: Option<bool>,
    /// How often trails deliver log files, like `2s` or `5m` (AWS: about 5m; default 5s).
    #[arg(long, env = "CAIRN_DELIVERY_INTERVAL")]
    pub delivery_interval: Option<String>,
    /// How often validated trails deliver digest files, like `2s` or `1h` (AWS: 1h; the default).
    #[arg(long, env = "CAIRN_DIGEST_INTERVAL")]
    pub digest_interval: Option<String>,
    /// Accounts an organization may hold (AWS's default quota: 10).
    #[arg(long, env = "CAIRN_ORG_ACCOUNT_LIMIT")]
    pub org_account_limit: Option<u32>,
    /// How long a region's digest signing key stays in force before a new one replaces it, like
    /// `30d` (AWS's, the default); shortened to test rotation.
    #[arg(long, env = "CAIRN_SIGNING_KEY_VALIDITY")]
    pub signing_key_validity: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
    management_account_id: Option<String>,
    admin_access_key_id: Option<String>,
    admin_secret_access_key: Option<String>,
    allow_reset: Option<bool>,
    durability: Option<String>,
    max_request_body: Option<usize>,
    recording: Option<bool>,
    org_account_limit: Option<u32>,
    delivery_interval: Option<String>,
    digest_interval: Option<String>,
    signing_key_validity: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub key_file: PathBuf,
    pub management_account_id: String,
    pub admin_access_key_id: String,
    pub admin_secret_access_key: String,
    pub allow_reset: bool,
    pub durability: crate::store::Durability,
    pub max_request_body: usize,
    pub recording: bool,
    pub delivery_interval: std::time::Duration,
    pub digest_interval: std::time::Duration,
    pub org_account_limit: u32,
    pub signing_key_validity: std::time::Duration,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4566";
pub const DEFAULT_ACCOUNT: &str = "111111111111";
pub const DEFAULT_KEY: &str = "test";
pub const ADMIN_USER: &str = "admin";

fn load_file(path: Option<&Path>) -> Result<FileConfig, String> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Settings {
    pub fn resolve(args: &ServeArgs) -> Result<Settings, String> {
        let file = load_file(args.common.config.as_deref())?;
        let listen_text = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| format!("--listen: '{listen_text}' is not ADDR:PORT"))?;
        let data_dir = args
            .common
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./cairn-data"));
        let key_file = args
            .common
            .key_file
            .clone()
            .or(file.key_file)
            .unwrap_or_else(|| default_key_file(&data_dir));
        let management_account_id = args
            .common
            .management_account_id
            .clone()
            .or(file.management_account_id)
            .unwrap_or_else(|| DEFAULT_ACCOUNT.into());
        if !is_account_id(&management_account_id) {
            return Err(format!(
                "--management-account-id: '{management_account_id}' is not a 12-digit account id"
            ));
        }
        let key_id = args
            .admin_access_key_id
            .clone()
            .or(file.admin_access_key_id);
        let secret = args
            .admin_secret_access_key
            .clone()
            .or(file.admin_secret_access_key);
        let (admin_access_key_id, admin_secret_access_key) = match (key_id, secret) {
            (Some(k), Some(s)) => (k, s),
            (None, None) => (DEFAULT_KEY.to_string(), DEFAULT_KEY.to_string()),
            _ => return Err("set both the admin access key id and its secret, or neither".into()),
        };
        if admin_access_key_id == DEFAULT_KEY
            && admin_secret_access_key == DEFAULT_KEY
            && !listen.ip().is_loopback()
        {
            return Err(format!(
                "refusing to listen on {listen} with the default admin key test/test: \
                 set --admin-access-key-id and --admin-secret-access-key (or listen on loopback)"
            ));
        }
        let durability = match args
            .durability
            .clone()
            .or(file.durability)
            .as_deref()
            .unwrap_or("process")
        {
            "process" => crate::store::Durability::Process,
            "power" => crate::store::Durability::Power,
            other => {
                return Err(format!(
                    "--durability: '{other}' is neither 'process' nor 'power'"
                ))
            }
        };
        Ok(Settings {
            listen,
            data_dir,
            key_file,
            management_account_id,
            admin_access_key_id,
            admin_secret_access_key,
            allow_reset: args.allow_reset.or(file.allow_reset).unwrap_or(false),
            durability,
            max_request_body: args
                .max_request_body
                .or(file.max_request_body)
                .unwrap_or(1024 * 1024),
            recording: args.recording.or(file.recording).unwrap_or(true),
            delivery_interval: crate::delivery::parse_interval(
                args.delivery_interval
                    .as_deref()
                    .or(file.delivery_interval.as_deref())
                    .unwrap_or("5s"),
            )
            .map_err(|e| format!("--delivery-interval: {e}"))?,
            digest_interval: crate::delivery::parse_interval(
                args.digest_interval
                    .as_deref()
                    .or(file.digest_interval.as_deref())
                    .unwrap_or("1h"),
            )
            .map_err(|e| format!("--digest-interval: {e}"))?,
            org_account_limit: args
                .org_account_limit
                .or(file.org_account_limit)
                .unwrap_or(10),
            signing_key_validity: match args
                .signing_key_validity
                .as_deref()
                .or(file.signing_key_validity.as_deref())
            {
                Some(v) => crate::delivery::parse_interval(v)
                    .map_err(|e| format!("--signing-key-validity: {e}"))?,
                None => crate::digests::keys::VALIDITY,
            },
        })
    }
}

/// `<data-dir>.key`: beside the data directory, so copying the directory does not copy the key.
pub fn default_key_file(data_dir: &Path) -> PathBuf {
    let mut name = data_dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "cairn-data".into());
    name.push(".key");
    data_dir.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> ServeArgs {
        match Cli::parse_from(
            std::iter::once("cairn")
                .chain(std::iter::once("serve"))
                .chain(v.iter().copied()),
        )
        .command
        {
            Command::Serve(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn defaults() {
        let s = Settings::resolve(&args(&[])).unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.management_account_id, DEFAULT_ACCOUNT);
        assert_eq!(s.admin_access_key_id, "test");
        assert!(!s.allow_reset);
        assert_eq!(s.key_file, PathBuf::from("./cairn-data.key"));
    }

    #[test]
    fn flags_win_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9999\"\nmanagement_account_id = \"222222222222\"\nallow_reset = true\n").unwrap();
        let f = file.to_str().unwrap();
        let s = Settings::resolve(&args(&["--config", f, "--listen", "127.0.0.1:1234"])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:1234");
        assert_eq!(s.management_account_id, "222222222222");
        assert!(s.allow_reset);
    }

    #[test]
    fn refuses_default_key_off_loopback() {
        let e = Settings::resolve(&args(&["--listen", "0.0.0.0:4566"])).unwrap_err();
        assert!(e.contains("refusing"), "{e}");
        let ok = Settings::resolve(&args(&[
            "--listen",
            "0.0.0.0:4566",
            "--admin-access-key-id",
            "AKIAEXAMPLEEXAMPLE12",
            "--admin-secret-access-key",
            "s3cr3t",
        ]));
        assert!(ok.is_ok());
    }

    #[test]
    fn bad_values() {
        assert!(Settings::resolve(&args(&["--management-account-id", "12"])).is_err());
        assert!(Settings::resolve(&args(&["--listen", "nonsense"])).is_err());
        assert!(Settings::resolve(&args(&["--admin-access-key-id", "x"])).is_err());
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        assert!(Settings::resolve(&args(&["--config", file.to_str().unwrap()])).is_err());
    }
}
