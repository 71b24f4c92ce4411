-- The conversations export streams straight out of PostgreSQL
-- (`COPY (…) TO STDOUT`, ARCHITECTURE.md "Reporting"), so the rules its
-- cells follow are written here, as the Rust ones are for the other kinds
-- (a test holds the two to the same answers).

-- A text cell a spreadsheet would read as a formula (=, +, -, @, tab or
-- carriage return first: OWASP CSV injection) gets a leading quote.
CREATE OR REPLACE FUNCTION livedesk_safe_cell(v text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN left(v, 1) IN ('=', '+', '-', '@', E'\t', E'\r') THEN '''' || v ELSE v END;

-- Several values in one cell, joined with `|`: every `|`-separated part
-- made safe (so the cell's start too). One regular expression over the
-- joined text, not a subquery per row: ten times faster on a large export.
CREATE OR REPLACE FUNCTION livedesk_safe_list(v text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN regexp_replace(array_to_string(v, '|'), '(^|\|)([-=+@\t\r])', '\1''\2', 'g');

-- Fails the statement over a stored label the service does not know (fail
-- closed: never an empty or made-up cell). VOLATILE so that it is only
-- ever called for a row that has such a label, never folded at plan time.
CREATE OR REPLACE FUNCTION livedesk_unknown_label(col text) RETURNS text
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RAISE EXCEPTION 'unknown stored label in %', col USING ERRCODE = 'XX000';
END
$$;
