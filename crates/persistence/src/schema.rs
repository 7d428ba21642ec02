//! The portable schema, kept by hand: only types both backends share (Text, BigInt, Timestamp,
//! Bool). Ids are UUID text; enumerations are TEXT guarded by CHECK constraints in the migrations.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        scale -> Nullable<Text>,
        region -> Nullable<Text>,
        identifier_scheme -> Nullable<Text>,
        identifier -> Nullable<Text>,
        website -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    memberships (user_id, organisation_id) {
        user_id -> Text,
        organisation_id -> Text,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        organisation_ids -> Nullable<Text>,
        created_by -> Text,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    auth_throttle (throttle_key) {
        throttle_key -> Text,
        failures -> BigInt,
        window_started_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        entity_version -> Nullable<BigInt>,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    programmes (id) {
        id -> Text,
        code -> Text,
        title -> Text,
        description -> Nullable<Text>,
        funder_organisation_id -> Text,
        budget_amount -> BigInt,
        budget_currency -> Text,
        opens_on -> Nullable<Date>,
        closes_on -> Nullable<Date>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    challenges (id) {
        id -> Text,
        programme_id -> Text,
        owner_organisation_id -> Text,
        reference -> Text,
        title -> Text,
        problem_statement -> Text,
        themes -> Text,
        documents -> Text,
        status -> Text,
        opens_at -> Nullable<Timestamp>,
        closes_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    phases (id) {
        id -> Text,
        challenge_id -> Text,
        number -> Integer,
        kind -> Text,
        budget_amount -> BigInt,
        budget_currency -> Text,
        max_award_amount -> BigInt,
        max_award_currency -> Text,
        committed_amount -> BigInt,
        max_suppliers -> Nullable<Integer>,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        open_to_all -> Bool,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        phase_id -> Text,
        challenge_id -> Text,
        owner_organisation_id -> Text,
        supplier_organisation_id -> Text,
        amount_requested_amount -> BigInt,
        amount_requested_currency -> Text,
        summary -> Text,
        status -> Text,
        assessment_score -> Nullable<Integer>,
        submitted_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    awards (id) {
        id -> Text,
        phase_id -> Text,
        challenge_id -> Text,
        owner_organisation_id -> Text,
        application_id -> Text,
        supplier_organisation_id -> Text,
        contract_reference -> Text,
        amount_amount -> BigInt,
        amount_currency -> Text,
        paid_amount -> BigInt,
        vat_included -> Bool,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        parent_award_id -> Nullable<Text>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    milestones (id) {
        id -> Text,
        award_id -> Text,
        supplier_organisation_id -> Text,
        owner_organisation_id -> Text,
        kind -> Text,
        title -> Text,
        due_on -> Nullable<Date>,
        amount_amount -> Nullable<BigInt>,
        amount_currency -> Nullable<Text>,
        status -> Text,
        paid_on -> Nullable<Date>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        invoiced_on -> Nullable<Date>,
    }
}

diesel::table! {
    trials (id) {
        id -> Text,
        award_id -> Nullable<Text>,
        host_organisation_id -> Text,
        supplier_organisation_id -> Nullable<Text>,
        title -> Text,
        sites -> Text,
        units -> Nullable<Integer>,
        unit_label -> Nullable<Text>,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        public -> Bool,
        result -> Nullable<Text>,
        adopted -> Nullable<Bool>,
        follow_on_value_amount -> Nullable<BigInt>,
        follow_on_value_currency -> Nullable<Text>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outcomes (id) {
        id -> Text,
        trial_id -> Text,
        kind -> Text,
        metric -> Text,
        unit -> Nullable<Text>,
        baseline -> Nullable<Double>,
        target -> Nullable<Double>,
        actual -> Nullable<Double>,
        measured_on -> Nullable<Date>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        role -> Nullable<Text>,
        email -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (caller, route, idempotency_key) {
        caller -> Text,
        route -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        txid -> BigInt,
        occurred_at -> Timestamp,
        entity -> Text,
        entity_id -> Text,
        operation -> Text,
        version -> BigInt,
        state -> Nullable<Text>,
        audience -> Text,
        party_a -> Nullable<Text>,
        party_b -> Nullable<Text>,
    }
}

diesel::table! {
    change_log_pruned (id) {
        id -> Integer,
        txid -> BigInt,
        seq -> BigInt,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        owner -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        cursor_txid -> BigInt,
        cursor_seq -> BigInt,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::table! {
    external_ids (entity, source, external_id) {
        entity -> Text,
        source -> Text,
        external_id -> Text,
        entity_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    imports (id) {
        id -> Text,
        owner -> Text,
        collection -> Text,
        format -> Text,
        mode -> Text,
        status -> Text,
        bytes -> BigInt,
        rows_processed -> BigInt,
        rows_created -> BigInt,
        rows_updated -> BigInt,
        rows_unchanged -> BigInt,
        rows_rejected -> BigInt,
        error -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    import_chunks (import_id, seq) {
        import_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    import_results (import_id, line) {
        import_id -> Text,
        line -> BigInt,
        outcome -> Text,
        entity_id -> Nullable<Text>,
        errors -> Nullable<Text>,
    }
}

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(challenges -> programmes (programme_id));
diesel::joinable!(phases -> challenges (challenge_id));
diesel::joinable!(memberships -> organisations (organisation_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    memberships,
    api_clients,
    refresh_tokens,
    auth_throttle,
    audit_log,
    programmes,
    challenges,
    phases,
    applications,
    awards,
    milestones,
    trials,
    outcomes,
    contacts,
    idempotency_keys,
    changes,
    change_log_pruned,
    webhook_subscriptions,
    webhook_deliveries,
    external_ids,
    imports,
    import_chunks,
    import_results,
);
