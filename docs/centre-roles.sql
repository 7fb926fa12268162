-- A training centre's gradebook on PostgreSQL: stations may only append (docs/records.md, "A centre's setup").
-- Run once as the database's owner, after the owner's first mesosim command made the tables, e.g.
--   mesosim gradebook list --db postgresql+psycopg://mesosim_admin@gradebook/mesosim
--   psql -U mesosim_admin -d mesosim -v ON_ERROR_STOP=1 -v station=station -f docs/centre-roles.sql
-- The station role logs in without a password kept on the station (a client certificate, or a password in the
-- station account's ~/.pgpass that is only worth appending with); it can add attempts and read back the ids it
-- needs, nothing else: no UPDATE, no DELETE, no record of another trainee, no label.

CREATE ROLE :"station" LOGIN;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"station";
GRANT SELECT (key, value) ON gradebook_meta TO :"station";
GRANT SELECT (id, name), INSERT (name, created) ON trainees TO :"station";
GRANT SELECT (id), INSERT (id, title, map) ON scenarios TO :"station";
GRANT SELECT (id, uid), INSERT (uid, trainee_id, scenario_id, scenario_sha256, mode, started, ended, score, passed,
  critical, injections, signed, record, added, saved, pass_mark, findings, record_sha256) ON attempts TO :"station";
GRANT USAGE ON SEQUENCE trainees_id_seq, attempts_id_seq TO :"station";

-- The server, not the station, says when a row arrived and what its record's hash is.
CREATE OR REPLACE FUNCTION mesosim_stamp() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  NEW.record_sha256 := encode(sha256(convert_to(NEW.record, 'UTF8')), 'hex');
  NEW.received := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"');
  RETURN NEW;
END $f$;
DROP TRIGGER IF EXISTS attempts_stamp ON attempts;
CREATE TRIGGER attempts_stamp BEFORE INSERT ON attempts FOR EACH ROW EXECUTE FUNCTION mesosim_stamp();
