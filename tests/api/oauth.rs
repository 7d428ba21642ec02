//! OAuth 2.0 as RFC 6749 has it at the token endpoint: client authentication by HTTP Basic or
//! in the form, and errors with `error` and `error_description` that OAuth libraries read.

use crate::common;

use super::auth::token_request;
use base64::Engine;
use common::{for_each_backend, serde_urlencoded_pairs, TestServer, ADMIN_EMAIL, PASSWORD};
use serde_json::{json, Value};

fn basic(id: &str, secret: &str) -> String {
    use base64::engine::general_purpose::STANDARD;
    // RFC 6749 §2.3.1: each part form-encoded, then joined and base64-encoded.
    let encode = |text: &str| serde_urlencoded_pairs(&[("x", text)])[2..].to_owned();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

fn token_request_with(
    server: &TestServer,
    authorization: &str,
    pairs: &[(&str, &str)],
) -> common::Reply {
    server.send(
        "POST",
        "/api/v1/auth/token",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", authorization),
        ],
        Some(serde_urlencoded_pairs(pairs).as_bytes()),
    )
}

/// RFC 6749 §5.2: `error` and `error_description` beside the problem members, never cached.
fn assert_oauth_error(reply: &common::Reply, status: u16, error: &str) -> Value {
    let problem = reply.assert_problem(status, error);
    assert_eq!(problem["error"], error, "{problem}");
    assert_eq!(problem["error_description"], problem["detail"], "{problem}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    problem
}

#[test]
fn oauth_clients_authenticate_with_http_basic_and_errors_carry_rfc_6749_codes() {
    for_each_backend(|server| {
        let created = server.send_json(
            "POST",
            "/api/v1/api-clients",
            &json!({"name": "Partner sync", "scopes": ["read", "reports"]}),
            Some(&server.admin_token),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let client = created.json();
        let id = client["id"].as_str().unwrap();
        let secret = client["client_secret"].as_str().unwrap();
        let grant = [("grant_type", "client_credentials")];

        // HTTP Basic, as most OAuth libraries send it by default.
        let granted = token_request_with(server, &basic(id, secret), &grant);
        assert_eq!(granted.status, 200, "{}", granted.text());
        assert_eq!(granted.json()["scope"], "read reports");
        let token = granted.json()["access_token"].as_str().unwrap().to_owned();
        assert_eq!(
            server.get_as("/api/v1/reports/funding", &token).status,
            200,
            "the client's scopes come with its token"
        );

        // Wrong over Basic: 401 invalid_client, challenged with Basic.
        let wrong = token_request_with(server, &basic(id, "cs_wrong"), &grant);
        assert_oauth_error(&wrong, 401, "invalid_client");
        assert!(
            wrong
                .header("www-authenticate")
                .is_some_and(|value| value.starts_with("Basic ")),
            "{:?}",
            wrong.header("www-authenticate")
        );
        let garbled = token_request_with(server, "Basic !!!not base64", &grant);
        assert_oauth_error(&garbled, 401, "invalid_client");

        // Wrong in the form: 401 invalid_client, with no Basic challenge.
        let in_form = token_request(
            server,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", "cs_wrong"),
            ],
        );
        assert_oauth_error(&in_form, 401, "invalid_client");
        assert_eq!(in_form.header("www-authenticate"), None);
        // None at all.
        assert_oauth_error(&token_request(server, &grant), 401, "invalid_client");
        // Both ways at once.
        let both = token_request_with(
            server,
            &basic(id, secret),
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", secret),
            ],
        );
        assert_oauth_error(&both, 400, "invalid_request");

        // Scopes: one the client holds is granted; one it lacks, or no such scope, is refused.
        let narrower = token_request_with(
            server,
            &basic(id, secret),
            &[("grant_type", "client_credentials"), ("scope", "read")],
        );
        assert_eq!(narrower.status, 200, "{}", narrower.text());
        for scope in ["write", "read everything"] {
            let refused = token_request_with(
                server,
                &basic(id, secret),
                &[("grant_type", "client_credentials"), ("scope", scope)],
            );
            assert_oauth_error(&refused, 400, "invalid_scope");
        }

        // People: a missing parameter is invalid_request naming it; an unknown one is ignored
        // (RFC 6749 §3.2); a client that authenticates along with them must do so rightly.
        let missing = token_request(
            server,
            &[("grant_type", "password"), ("username", ADMIN_EMAIL)],
        );
        let problem = assert_oauth_error(&missing, 400, "invalid_request");
        assert_eq!(problem["errors"][0]["pointer"], "#/password", "{problem}");
        let person = [
            ("grant_type", "password"),
            ("username", ADMIN_EMAIL),
            ("password", PASSWORD),
            ("device", "spreadsheet"),
        ];
        let signed_in = token_request(server, &person);
        assert_eq!(signed_in.status, 200, "{}", signed_in.text());
        let with_client = token_request_with(server, &basic(id, secret), &person);
        assert_eq!(with_client.status, 200, "{}", with_client.text());
        let with_wrong_client = token_request_with(server, &basic(id, "cs_wrong"), &person);
        assert_oauth_error(&with_wrong_client, 401, "invalid_client");
        let refresh = signed_in.json()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let refreshed = token_request_with(
            server,
            &basic(id, secret),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        );
        assert_eq!(refreshed.status, 200, "{}", refreshed.text());
        let unknown = token_request(
            server,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "no.such"),
            ],
        );
        assert_oauth_error(&unknown, 400, "invalid_grant");
    });
}
