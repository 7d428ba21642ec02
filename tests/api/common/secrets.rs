//! With `CATALYST_TEST_LOG_DIR` set, every server's log lines are kept in `server.log` there,
//! and every secret a test sends or is given (passwords, access and refresh tokens, client
//! secrets, webhook secrets) in `secrets`: `.ci/secrets_in_logs` then checks that no secret
//! appears in any log line of the whole run.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

/// Names of members whose values are secrets, in request and response bodies.
const SECRET_MEMBERS: [&str; 6] = [
    "password",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret",
    "new_password",
];

/// Shorter values are test fixtures such as "mine", which could match anything.
const SHORTEST: usize = 8;

fn folder() -> Option<PathBuf> {
    std::env::var_os("CATALYST_TEST_LOG_DIR").map(PathBuf::from)
}

fn append(file: &str, line: &str) {
    let Some(folder) = folder() else {
        return;
    };
    let _ = std::fs::create_dir_all(&folder);
    if let Ok(mut out) = OpenOptions::new()
        .create(true)
        .append(true)
        .open(folder.join(file))
    {
        // One write per line: appends from several processes stay whole lines.
        let _ = out.write_all(format!("{line}\n").as_bytes());
    }
}

/// Keeps a secret to look for in the logs.
pub fn note(secret: &str) {
    if secret.len() >= SHORTEST && !secret.contains('\n') {
        append("secrets", secret);
    }
}

pub fn keep_log_line(line: &str) {
    append("server.log", line);
}

fn note_members(value: &Value) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                match member {
                    Value::String(text) if SECRET_MEMBERS.contains(&name.as_str()) => note(text),
                    other => note_members(other),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(note_members),
        _ => {}
    }
}

/// Secrets in a JSON or form body sent.
pub fn note_request(body: Option<&[u8]>) {
    if folder().is_none() {
        return;
    }
    let Some(body) = body else {
        return;
    };
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        note_members(&json);
        return;
    }
    let text = String::from_utf8_lossy(body);
    for pair in text.split('&') {
        if let Some((name, value)) = pair.split_once('=') {
            if SECRET_MEMBERS.contains(&name) {
                let value = value.replace('+', " ");
                note(&percent_decoded(&value));
            }
        }
    }
}

/// Secrets in a JSON body received.
pub fn note_response(body: &[u8]) {
    if folder().is_none() {
        return;
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        note_members(&json);
    }
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
