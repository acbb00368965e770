use cairn::app::App;
use cairn::auth::directory;
use cairn::config::{AdminCommand, Cli, Command, ServeArgs, Settings};
use clap::Parser;
use std::process::ExitCode;

/// Every call builds and drops many small JSON values and buffers across threads; mimalloc
/// serves that pattern far better than the system allocator (measured: malloc/free were a
/// seventh of a listing call's time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal; files and pipes get plain lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cairn: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Admin(AdminCommand::CreateAccessKey(args)) => create_access_key(args).await,
            Command::Admin(AdminCommand::CreateAccount(args)) => create_account(args).await,
            Command::Admin(AdminCommand::PutOidcKeys(args)) => put_oidc_keys(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cairn: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let settings = Settings::resolve(&args)?;
    let listen = settings.listen;
    let app = App::open(settings).await?;
    app.start_consumers();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    // Scripts and tests that ask for port 0 read the real address from this line.
    println!("cairn listening on http://{bound}");
    tracing::info!(address = %bound, data_dir = %app.settings.data_dir.display(), "listening");
    cairn::server::run(app, listener)
        .await
        .map_err(|e| e.to_string())
}

async fn create_access_key(args: cairn::config::CreateAccessKeyArgs) -> Result<(), String> {
    let settings = Settings::resolve(&ServeArgs {
        common: args.common.clone(),
        ..Default::default()
    })?;
    let app = App::open(settings).await?;
    let (store, sealer) = (app.store.clone(), app.auth.sealer().clone());
    let account = args.account_id.clone();
    let user = args.user_name.clone();
    let now = app.clock.now();
    let (id, secret) = store
        .write(move |w| {
            directory::mint_access_key(
                w,
                &sealer,
                &account,
                user.as_deref(),
                now.timestamp_millis(),
            )
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut key = serde_json::json!({
        "AccessKeyId": id,
        "Status": "Active",
        "SecretAccessKey": secret,
        "CreateDate": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    });
    if let Some(u) = &args.user_name {
        key.as_object_mut()
            .expect("object")
            .insert("UserName".into(), serde_json::Value::String(u.clone()));
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({ "AccessKey": key })).expect("json")
    );
    Ok(())
}

async fn create_account(args: cairn::config::CreateAccountArgs) -> Result<(), String> {
    if args.account_id.len() != 12 || !args.account_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "--account-id: '{}' is not a 12-digit account id",
            args.account_id
        ));
    }
    let settings = Settings::resolve(&ServeArgs {
        common: args.common.clone(),
        ..Default::default()
    })?;
    let management = settings.management_account_id.clone();
    let app = App::open(settings).await?;
    let now = app.clock.now().timestamp_millis();
    let (id, name, email) = (
        args.account_id.clone(),
        args.name.clone(),
        args.email.clone(),
    );
    let role = app
        .store
        .write(move |w| -> Result<_, cairn::store::StoreError> {
            if directory::account(w, &id)?.is_some() {
                return Err(cairn::store::StoreError::Backend(format!(
                    "account {id} already exists"
                )));
            }
            directory::create_account(w, &id, &name, &email, now)?;
            directory::create_organization_role(
                w,
                &id,
                &management,
                directory::ORGANIZATION_ROLE,
                now,
            )
        })
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "Account": {"Id": args.account_id, "Name": args.name, "Email": args.email},
            "Role": {"RoleName": role.name, "Arn": role.arn()},
        }))
        .expect("json")
    );
    Ok(())
}

async fn put_oidc_keys(args: cairn::config::PutOidcKeysArgs) -> Result<(), String> {
    let jwks = if args.jwks_file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))?
    } else {
        std::fs::read_to_string(&args.jwks_file)
            .map_err(|e| format!("{}: {e}", args.jwks_file.display()))?
    };
    let settings = Settings::resolve(&ServeArgs {
        common: args.common.clone(),
        ..Default::default()
    })?;
    let app = App::open(settings).await?;
    let arn = cairn::arn::canonical(&args.provider_arn).into_owned();
    let provider = app
        .store
        .write(move |w| -> Result<_, cairn::store::StoreError> {
            cairn::services::iam::oidc::put_keys(w, &arn, &jwks)
                .map_err(cairn::store::StoreError::Backend)
        })
        .await
        .map_err(|e| e.to_string())?;
    let keys: Vec<serde_json::Value> = provider
        .keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "kid": k.get("kid"),
                "kty": k.get("kty"),
                "alg": k.get("alg"),
            })
        })
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "OpenIDConnectProviderArn": provider.arn(),
            "Keys": keys,
        }))
        .expect("json")
    );
    Ok(())
}
