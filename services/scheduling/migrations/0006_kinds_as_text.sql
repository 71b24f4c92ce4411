-- One storage rule for enums in every service's tables: a text label with
-- a CHECK, so a row is readable without the protobuf numbering and an
-- unknown value can never be stored (and is refused when read).
-- Form kinds were protobuf numbers (FormKind: 1 offline, 2 contact); any
-- other stored number has no label, becomes NULL and fails the migration
-- (NOT NULL) instead of being guessed.
ALTER TABLE forms
    ALTER COLUMN kind TYPE text
    USING CASE kind WHEN 1 THEN 'offline' WHEN 2 THEN 'contact' END;
ALTER TABLE forms
    ADD CONSTRAINT forms_kind_known CHECK (kind IN ('offline', 'contact'));

ALTER TABLE form_submissions
    ALTER COLUMN kind TYPE text
    USING CASE kind WHEN 1 THEN 'offline' WHEN 2 THEN 'contact' END;
ALTER TABLE form_submissions
    ADD CONSTRAINT form_submissions_kind_known CHECK (kind IN ('offline', 'contact'));
