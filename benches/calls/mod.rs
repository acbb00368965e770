//! What the recording benches record: a call by an IAM user, as the request path describes it to
//! the audit room. Shared by `record.rs` and `history.rs` (`#[path]`-included: each bench is a
//! crate of its own).

use cairn::audit::CallInfo;
use cairn::auth::{Principal, PrincipalKind};
use cairn::services::RequestContext;

/// The allocator the server runs with (src/main.rs), so figures match what calls cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A call from 127.0.0.1 by the IAM user `admin`, with this user agent.
pub fn ctx(user_agent: &str) -> RequestContext {
    RequestContext {
        request_id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0".into(),
        principal: Principal {
            account: "111111111111".into(),
            kind: PrincipalKind::User {
                name: "admin".into(),
                path: "/".into(),
                id: "AIDAEXAMPLEEXAMPLE01".into(),
            },
            access_key_id: "AKIAEXAMPLEEXAMPLE01".into(),
            session: None,
        },
        region: "us-east-2".into(),
        source_ip: "127.0.0.1".parse().expect("an address"),
        user_agent: user_agent.into(),
        time: chrono::Utc::now(),
        secure: false,
    }
}

/// An STS management event named `name` in us-east-2, recorded for the caller's account.
pub fn info(name: &str, read_only: bool) -> CallInfo {
    CallInfo {
        event_source: "sts.amazonaws.com",
        event_name: name.into(),
        region: "us-east-2".into(),
        read_only,
        management: true,
        request_parameters: None,
        resources: Vec::new(),
        recipient_account: "111111111111".into(),
        shared_with: None,
        additional_event_data: None,
        lookup_resources: Vec::new(),
    }
}
