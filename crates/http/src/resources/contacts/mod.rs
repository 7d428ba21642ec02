//! Contacts at an organisation: `/api/v1/organisations/{id}/contacts` and `/api/v1/contacts/{id}`.
//! Never public: seen and kept by programme staff and the organisation's own members.

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use catalyst_domain::{
    Actor, Contact, ContactFields, ContactId, ExternalId, OrganisationId, Timestamp,
    ValidationErrors, Versioned,
};
use catalyst_persistence::contacts::{self as store, ContactSortField};
use catalyst_persistence::keyset::Direction;
use catalyst_persistence::{organisations, DbConnection, StoreError};

use crate::auth::Caller;
use crate::extract::id_path::IdPath;
use crate::extract::lists::{ListReads, ListRequest};
use crate::problem::ApiError;
use crate::resources::audit::AuditContext;
use crate::resources::creates::{self, Creates};
use crate::resources::deletes::{self, Deletes};
use crate::resources::reads::{self, Readable};
use crate::resources::updates::{self, Updates};
use crate::resources::upsert::{fixed, found_visible, Keyed, Saved};
use crate::resources::{optional_patch, required_patch};
use crate::resources::{ForeignKey, StoreErrors};
use crate::server::state::AppState;
use catalyst_domain::Audience;

pub use catalyst_api::contacts::*;

pub const TAG: &str = "contacts";

impl crate::extract::id_path::RecordId for catalyst_domain::ContactId {
    const RECORD: &'static str = "contact";
}

pub const ENTITY: &str = "contacts";

fn not_found() -> ApiError {
    ApiError::NotFound("no such contact".to_owned())
}

/// The contact, if the caller may see its organisation's contacts.
fn find_visible(
    connection: &mut DbConnection,
    id: ContactId,
    actor: &Actor,
) -> Result<Contact, ApiError> {
    let contact = store::find(connection, id).map_err(|_| not_found())?;
    if actor.may_see_contacts_of(contact.fields.organisation_id) {
        Ok(contact)
    } else {
        Err(not_found())
    }
}

const STORE_ERRORS: StoreErrors = StoreErrors {
    record: "contact",
    duplicate: None,
    foreign_key: ForeignKey::Unexpected,
};

fn map_store_error(error: StoreError) -> ApiError {
    STORE_ERRORS.map(error)
}

creates::create_endpoint! {
    /// Add a contact to an organisation (programme staff or its members).
    create_contact: Contact, "/organisations/{id}/contacts", under OrganisationId, tag = TAG,
    body = CreateContact, created = "Created", resource = ContactResource,
    location = "The contact's URL", errors = [(status = 404, description = "No such organisation")]
}

impl Creates for Contact {
    type Parent = OrganisationId;
    type Body = CreateContact;
    type Checked = (ContactFields, Vec<ExternalId>);

    fn checked(
        actor: &Actor,
        organisation: OrganisationId,
        body: CreateContact,
    ) -> Result<Self::Checked, ApiError> {
        actor.may_manage_contacts_of(organisation)?;
        Ok(body.validate(Some(organisation))?)
    }
    fn insert(
        connection: &mut DbConnection,
        _actor: &Actor,
        audit: &AuditContext,
        (fields, external_ids): Self::Checked,
    ) -> Result<Self, ApiError> {
        insert_new(connection, audit, fields, external_ids)
    }
}

/// An organisation's contacts (programme staff or its members).
#[utoipa::path(
    tag = TAG, operation_id = "list_contacts", security(("bearer" = [])),
    params(IdPath<OrganisationId>,
        ("limit" = Option<i64>, Query, minimum = 1, description = "Page size, default 50; above 500 reads as 500"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
        ("sort" = Option<String>, Query, description = "`name`, `created_at`, `updated_at`, `id`, each optionally prefixed with `-`"),
        ("updated_since" = Option<String>, Query, description = "Only contacts changed at or after this RFC 3339 instant")),
    responses(
        (status = 200, description = "A page of contacts", body = ContactList),
        (status = 404, description = "No such organisation, or not one whose contacts you may see"),
    )
)]
#[get("/organisations/{id}/contacts")]
pub async fn list_contacts(
    request: HttpRequest,
    caller: Caller,
    IdPath(organisation): IdPath<OrganisationId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.actor().signed_in()?;
    let mut list = ListRequest::parse(&request, &[(ContactSortField::Name, Direction::Ascending)])?;
    let may_see = caller.actor().may_see_contacts_of(organisation);
    let since = list.updated_since();
    list.answer::<ContactList>(
        &request,
        &state,
        ListReads::Primary,
        caller,
        move |connection, _actor, sort, after, limit| {
            if !may_see {
                // Whether an organisation has contacts is not for everyone to know.
                return Err(ApiError::NotFound("no contacts you may see".to_owned()));
            }
            Ok(store::list(
                connection,
                organisation,
                since,
                sort,
                after,
                limit,
            )?)
        },
    )
    .await
}

reads::get_endpoint! {
    /// Get a contact.
    get_contact: Contacts, "/contacts/{id}", tag = TAG, reader = CallerToken,
    security = (("bearer" = [])),
    found = "The contact", body = ContactResource,
    missing = "No such contact"
}

updates::update_endpoint! {
    /// Update a contact.
    update_contact: Contacts, "/contacts/{id}", tag = TAG, patch = UpdateContact,
    updated = "The updated contact", body = ContactResource, missing = "No such contact"
}

impl Updates for Contacts {
    type Patch = UpdateContact;
    type Change = (ContactFields, Vec<ExternalId>);

    fn patched(
        _connection: &mut DbConnection,
        actor: &Actor,
        current: &Contact,
        patch: UpdateContact,
    ) -> Result<Self::Change, ApiError> {
        actor.may_manage_contacts_of(current.fields.organisation_id)?;
        let old = &current.fields;
        let mut errors = ValidationErrors::default();
        let fields = ContactFields {
            name: required_patch(&patch.name, &old.name, "name", &mut errors),
            role: optional_patch(&patch.role, &old.role),
            email: optional_patch(&patch.email, &old.email),
            ..old.clone()
        };
        let external_ids = crate::resources::checked_patch_keys(
            &patch.external_ids,
            &current.external_ids,
            errors,
        )?;
        Ok((fields.validate()?, external_ids))
    }

    fn write(
        connection: &mut DbConnection,
        audit: &AuditContext,
        current: Contact,
        (fields, external_ids): Self::Change,
    ) -> Result<Contact, ApiError> {
        Ok(replace(connection, audit, current, fields, external_ids)?.record())
    }
}

deletes::delete_endpoint! {
    /// Delete a contact.
    delete_contact: Contacts, "/contacts/{id}", tag = TAG,
    missing = "No such contact"
}

reads::history_endpoint! {
    /// A contact's recorded changes, oldest first.
    list_contact_history: Contacts, "/contacts/{id}/history", tag = TAG, reader = CallerToken,
    security = (("bearer" = [])),
    missing = "No such contact"
}

/// Contacts: personal data, seen by the organisation's own people and programme staff.
pub struct Contacts;

impl Readable for Contacts {
    type Id = ContactId;
    type Seen = Actor;
    type Found = Contact;

    fn may_read(actor: &Actor) -> Result<(), ApiError> {
        reads::signed_in(actor)
    }

    fn seen(actor: &Actor) -> Actor {
        actor.clone()
    }

    fn find(
        connection: &mut DbConnection,
        id: ContactId,
        seen: &Actor,
    ) -> Result<Contact, ApiError> {
        find_visible(connection, id, seen)
    }
}

impl Deletes for Contacts {
    fn may_delete(actor: &Actor, current: &Contact) -> Result<(), ApiError> {
        Ok(actor.may_manage_contacts_of(current.fields.organisation_id)?)
    }

    fn audience(current: &Contact) -> Audience {
        current.audience()
    }

    fn delete_row(
        connection: &mut DbConnection,
        _audit: &AuditContext,
        current: &Contact,
    ) -> Result<(), ApiError> {
        store::delete(connection, current.id, current.version).map_err(map_store_error)
    }
}

/// Stores a new contact of an existing organisation, with its audit record.
fn insert_new(
    connection: &mut DbConnection,
    audit: &AuditContext,
    fields: ContactFields,
    external_ids: Vec<ExternalId>,
) -> Result<Contact, ApiError> {
    organisations::find(connection, fields.organisation_id)
        .map_err(|_| ApiError::NotFound("no such organisation".to_owned()))?;
    let now = Timestamp::now();
    let contact = Contact {
        id: ContactId::generate(),
        fields,
        external_ids,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(connection, &contact).map_err(map_store_error)?;
    audit.record_created(connection, &contact)?;
    Ok(contact)
}

/// Replaces a contact's fields and external ids as the next version, with its audit record;
/// nothing when nothing changed.
fn replace(
    connection: &mut DbConnection,
    audit: &AuditContext,
    current: Contact,
    fields: ContactFields,
    external_ids: Vec<ExternalId>,
) -> Result<Saved<Contact>, ApiError> {
    if fields == current.fields && external_ids == current.external_ids {
        return Ok(Saved::Unchanged(current));
    }
    let updated = Contact {
        fields,
        external_ids,
        ..current.next_version(Timestamp::now())
    };
    store::update_with_keys(connection, &updated, &current).map_err(map_store_error)?;
    audit.record_updated(connection, &current, &updated)?;
    Ok(Saved::Updated(updated))
}

impl Keyed for Contact {
    const NOUN: &'static str = "contact";
    const PRIVATE: bool = true;
    type Body = CreateContact;
    type Checked = ContactFields;

    crate::keyed_record_fields!();

    fn check(body: CreateContact) -> Result<(ContactFields, Vec<ExternalId>), ApiError> {
        body.validate(None).map_err(ApiError::from)
    }
    fn find_by_key(
        connection: &mut DbConnection,
        key: &ExternalId,
        actor: &Actor,
    ) -> Result<Option<Self>, ApiError> {
        found_visible(
            store::find_by_external_id(connection, &key.source, &key.id),
            key,
            |contact| {
                if actor.may_see_contacts_of(contact.fields.organisation_id) {
                    Ok(contact)
                } else {
                    Err(())
                }
            },
        )
    }
    fn save(
        connection: &mut DbConnection,
        actor: &Actor,
        audit: &AuditContext,
        existing: Option<Self>,
        fields: ContactFields,
        external_ids: Vec<ExternalId>,
    ) -> Result<Saved<Self>, ApiError> {
        let Some(current) = existing else {
            actor.may_manage_contacts_of(fields.organisation_id)?;
            let contact = insert_new(connection, audit, fields, external_ids)?;
            return Ok(Saved::Created(contact));
        };
        actor.may_manage_contacts_of(current.fields.organisation_id)?;
        let mut errors = ValidationErrors::default();
        fixed(
            &fields.organisation_id,
            &current.fields.organisation_id,
            "organisation_id",
            "a contact stays with its organisation",
            &mut errors,
        );
        errors.into_result(())?;
        replace(connection, audit, current, fields, external_ids)
    }
}

crate::by_external_id_handlers!(
    record: Contact, body: CreateContact, resource: ContactResource,
    path: "/contacts/by-external-id/{source}/{id}",
    get_security: (("bearer" = [])),
    get: get_contact_by_external_id, "Get a contact by a partner's key for it.",
    put: upsert_contact_by_external_id, "Create or replace a contact by a partner's key for it."
);

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(get_contact_by_external_id)
        .service(upsert_contact_by_external_id)
        .service(create_contact)
        .service(list_contacts)
        .service(get_contact)
        .service(update_contact)
        .service(delete_contact)
        .service(list_contact_history);
}

crate::audited!(Contact: ENTITY, ContactResource, audience = |record| record.audience());
