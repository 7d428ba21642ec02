//! `catalyst user create`: how the first admin is made on a fresh install.

use std::io::BufRead;

use catalyst_domain::{access, Audience, Role, Timestamp, UserFields, ValidationErrors};
use catalyst_persistence::{audit, changes, transaction, users, Pool, StoreError};

fn describe(errors: &ValidationErrors) -> String {
    errors
        .violations()
        .iter()
        .map(|violation| violation.detail.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Creates a user with the password read from standard input.
pub fn create(
    pool: &Pool,
    email: &str,
    name: &str,
    role: &str,
    organisations: &[String],
) -> Result<(), String> {
    let role: Role = role.parse().map_err(|error| format!("--role: {error}"))?;
    let organisations = organisations
        .iter()
        .map(|id| {
            id.parse()
                .map_err(|_| format!("--organisation {id:?} is not an organisation id"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let fields = UserFields::validate(email, name, role, organisations)
        .map_err(|errors| describe(&errors))?;
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|error| format!("cannot read the password from standard input: {error}"))?;
    let password = password.trim_end_matches(['\n', '\r']);
    let mut errors = ValidationErrors::default();
    access::validate_password(password, "password", &mut errors);
    if !errors.is_empty() {
        return Err(describe(&errors));
    }
    let hash = catalyst_http::auth::credentials::hash_password(password)
        .map_err(|error| error.to_string())?;
    let mut connection = pool.get().map_err(|error| error.to_string())?;
    let user = transaction(&mut connection, |connection| {
        let user = users::insert(connection, &fields, &hash, Timestamp::now())?;
        let after = serde_json::to_string(&catalyst_api::users::UserResource::from(&user))
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        audit::record(
            connection,
            &audit::AuditRecord::new(
                "system".to_owned(),
                "create",
                "users",
                user.id.to_string(),
                Some(user.version),
                None,
                Some(after.clone()),
                None,
            ),
        )?;
        changes::record(
            connection,
            &changes::NewChange {
                entity: "users",
                entity_id: &user.id.to_string(),
                operation: changes::Operation::Create,
                version: user.version,
                state: Some(&after),
                audience: Audience::Admins,
                occurred_at: user.created_at,
            },
        )?;
        Ok::<_, StoreError>(user)
    })
    .map_err(|error| match error {
        StoreError::Duplicate { .. } => {
            format!("a user with email {} already exists", fields.email)
        }
        StoreError::ForeignKey => "an --organisation does not exist".to_owned(),
        other => other.to_string(),
    })?;
    println!("{}", user.id);
    Ok(())
}
