-- Qualification edited after the end (CNV-10, RPT-2): when the newest edit
-- happened, so an edit and the end, in whatever order they arrive, leave
-- the newest tags and reason.
ALTER TABLE conversation_facts ADD COLUMN qualified_at timestamptz;
