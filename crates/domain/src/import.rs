//! What a bulk import can write.

crate::text_enum!(
    /// The collections an import's rows go into: each row creates a record, or updates the one
    /// its keys name (payments move a milestone to paid).
    ImportCollection {
        Organisations => "organisations",
        Challenges => "challenges",
        Applications => "applications",
        Awards => "awards",
        Payments => "payments",
    }
);
