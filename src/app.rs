//! The running server's shared state, built once at start.

use crate::auth::{directory, sealer::Sealer, Authenticator, BootstrapKey};
use crate::clock::Clock;
use crate::config::{Settings, ADMIN_USER};
use crate::store::{BlobStore, Durability, FsBlobs, SqliteEngine, Store, StoreError};
use std::sync::Arc;

pub struct App {
    pub settings: Settings,
    pub store: Store,
    /// The event-history index: derived from the journal, kept in its own database.
    pub history: Store,
    /// Wakes the history consumer when a lookup needs the index current.
    pub history_nudge: Arc<crate::background::Nudge>,
    pub clock: Clock,
    pub auth: Authenticator,
    /// S3 object bodies.
    pub blobs: Arc<dyn BlobStore>,
    /// S3 server access log records waiting for delivery.
    pub access_logs: Arc<crate::services::s3::access_log::AccessLogs>,
}

/// Opens the data directory's store and master key, without bootstrapping.
pub fn open_store(settings: &Settings) -> Result<(Store, Sealer), String> {
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("{}: {e}", settings.data_dir.display()))?;
    let engine = SqliteEngine::open(&settings.data_dir.join("cairn.db"), settings.durability)
        .map_err(|e| e.to_string())?;
    let sealer = Sealer::load_or_create(&settings.key_file)
        .map_err(|e| format!("{}: {e}", settings.key_file.display()))?;
    Ok((Store::new(Arc::new(engine)), sealer))
}

/// Creates the bootstrap account and user (after wiping everything, for a reset); returns the
/// journal's head as of that commit.
fn bootstrap_job(
    settings: &Settings,
    now_ms: i64,
    wipe: bool,
) -> impl FnOnce(&mut dyn crate::store::Writer) -> Result<u64, StoreError> + Send + 'static {
    let account = settings.management_account_id.clone();
    move |w| {
        if wipe {
            w.wipe_all()?;
        }
        directory::bootstrap(
            w,
            &directory::Bootstrap {
                management_account: &account,
                admin_user: ADMIN_USER,
                now_ms,
            },
        )?;
        w.journal_head()
    }
}

impl App {
    pub async fn open(settings: Settings) -> Result<Arc<App>, String> {
        let (store, sealer) = open_store(&settings)?;
        let history = Store::new(Arc::new(
            SqliteEngine::open_background(
                &settings.data_dir.join("history.db"),
                settings.durability,
            )
            .map_err(|e| e.to_string())?,
        ));
        let objects = settings.data_dir.join("objects");
        let blobs = FsBlobs::open(&objects, settings.durability == Durability::Power)
            .map_err(|e| format!("{}: {e}", objects.display()))?;
        let clock = Clock::default();
        store
            .write(bootstrap_job(
                &settings,
                clock.now().timestamp_millis(),
                false,
            ))
            .await
            .map_err(|e| e.to_string())?;
        let auth = Authenticator::new(
            sealer,
            BootstrapKey {
                access_key_id: settings.admin_access_key_id.clone(),
                secret_access_key: settings.admin_secret_access_key.clone(),
                account: settings.management_account_id.clone(),
                user_name: ADMIN_USER.into(),
            },
            store.clone(),
            clock.clone(),
        );
        Ok(Arc::new(App {
            settings,
            store,
            history,
            history_nudge: Arc::default(),
            clock,
            auth,
            blobs: Arc::new(blobs),
            access_logs: Arc::default(),
        }))
    }

    /// Starts the background work: journal consumers and Organizations' account creation (the
    /// server runs them; admin commands do not).
    pub fn start_consumers(self: &Arc<Self>) {
        crate::services::organizations::spawn_worker(self);
        tokio::spawn(crate::delivery::run(self.clone()));
        tokio::spawn(crate::digests::run(self.clone()));
        tokio::spawn(crate::services::s3::access_log::deliver::run(self.clone()));
        tokio::spawn(crate::services::s3::lifecycle::worker::run(self.clone()));
        crate::audit::history::start(
            self.store.clone(),
            self.history.clone(),
            self.history_nudge.clone(),
        );
    }

    /// Back to first start: everything wiped, the bootstrap account and user recreated, in one
    /// durable commit.
    pub async fn reset(&self) -> Result<(), StoreError> {
        self.clock.reset();
        let head = self
            .store
            .write(bootstrap_job(
                &self.settings,
                self.clock.now().timestamp_millis(),
                true,
            ))
            .await?;
        // Event history must forget the wiped records too: their positions would otherwise
        // still fill lookups' pages (and decide NextToken) though no record is left behind them.
        crate::audit::history::forget_before(&self.history, head).await?;
        self.access_logs.clear();
        self.blobs
            .wipe()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.auth.refresh();
        Ok(())
    }
}
