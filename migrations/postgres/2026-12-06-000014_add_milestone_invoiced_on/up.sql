-- When the supplier invoiced a milestone, so that payment times (invoice to payment) can be
-- reported against the 30 days of the Public Contracts Regulations 2015, regulation 113.
ALTER TABLE milestones ADD COLUMN invoiced_on DATE;
ALTER TABLE milestones ADD CONSTRAINT milestones_invoiced_before_paid
    CHECK (invoiced_on IS NULL OR paid_on IS NULL OR invoiced_on <= paid_on);
