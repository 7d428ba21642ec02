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
