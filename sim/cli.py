"""The `mesosim` command: the argument parser and one small function per command, each calling the session
(sim/session.py), the exports (sim/exports) or the trainer (sim/ui)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from sim import __version__
from sim.errors import InputError, Problem, UnavailableError, one_line

EXIT_OK, EXIT_UNAVAILABLE, EXIT_INPUT = 0, 1, 2
DEFAULT_SCENARIO = "face-free"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own message, in the project's one-line form, exit 2
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(EXIT_INPUT)


def _selection_options(parser: argparse.ArgumentParser) -> None:
    """--trainee, --scenario, --format and --db of a gradebook command that shows a selection of attempts."""
    parser.add_argument("--trainee", metavar="NAME")
    parser.add_argument("--scenario", metavar="ID")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--db", metavar="URL", help="the gradebook (default: as configured)")


def add_library_option(parser: argparse.ArgumentParser) -> None:
    """--library DIR on a command that looks scenarios up by id (sim.paths.library_dirs)."""
    parser.add_argument("--library", metavar="DIR", action="append", default=[],
                        help="a folder of your own exercises, looked up by id beside the shipped ones (may be "
                        "repeated; also MESOSIM_LIBRARY and the user folder)")


def ascii_int(text: str) -> int:
    """An integer written in ASCII digits: int() would also take "١٠", "１０" and "1_0" as 10."""
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text.strip()):
        raise argparse.ArgumentTypeError(f'"{one_line(text[:40])}" is not a whole number written in digits 0-9')
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mesosim", description="Training simulator for mesotherapy injection technique.")
    p.add_argument("--version", action="version", version=f"mesosim {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    v = sub.add_parser("validate", help="check scenario files (and folders of them)")
    v.set_defaults(func=cmd_validate)
    v.add_argument("paths", nargs="+", metavar="PATH")
    add_library_option(v)

    t = sub.add_parser("techniques", help="list the technique library")
    t.set_defaults(func=cmd_techniques)
    t.add_argument("--format", choices=("text", "json"), default="text")

    s = sub.add_parser("schema", help="write the JSON Schema of scenario files")
    s.set_defaults(func=cmd_schema)
    s.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    s.add_argument("--install", action="store_true", help="write it beside your library (the user data folder) "
                   "and print the first line for scenario files, which finds it wherever a file is moved")

    sc = sub.add_parser("score", help="score an injection log against a scenario")
    sc.set_defaults(func=cmd_score)
    sc.add_argument("scenario", metavar="SCENARIO", help="a scenario file or the id of a shipped scenario")
    sc.add_argument("log", metavar="LOG.csv", help="the injection log (contract.md)")
    sc.add_argument("--format", choices=("json", "text"), default="json")
    sc.add_argument("--screening", metavar="DECISION[:REASON]",
                    help="the screening decision (go, postpone or no-go) and its reason id, e.g. no-go:pregnancy")
    sc.add_argument("--save", metavar="ATTEMPT.json", help="also write a signed attempt record")
    sc.add_argument("--trainee", metavar="NAME", default="", help="the trainee's name for the record")
    sc.add_argument("--mode", choices=("practice", "exam"), help="the mode to record (default: the scenario's)")
    sc.add_argument("--db", metavar="URL", help="with --save: the gradebook (default: SQLite in the data folder, or "
                    "MESOSIM_DB, or database: in config.yaml)")
    add_library_option(sc)

    rp = sub.add_parser("report", help="score reports of attempt records: pdf, html, csv, cohort-csv, json, xapi")
    rp.set_defaults(func=cmd_report)
    rp.add_argument("records", nargs="+", metavar="ATTEMPT")
    rp.add_argument("--format", choices=("pdf", "html", "csv", "cohort-csv", "json", "xapi"), required=True)
    rp.add_argument("-o", "--output", metavar="OUT", help="the file to write (default: standard output; a PDF "
                    "needs a file)")
    rp.add_argument("--lrs", metavar="URL", help="with --format xapi: also post the statements to this Learning "
                    "Record Store (its base address or its statements resource); the trainees' accounts are at the "
                    "address MESOSIM_XAPI_HOME_PAGE or xapi.home_page in config.yaml gives")
    rp.add_argument("--lrs-auth", metavar="USER:PASSWORD", help=argparse.SUPPRESS)
    rp.add_argument("--lrs-auth-file", metavar="FILE",
                    help="a file (readable by you only) holding the basic-auth credentials USER:PASSWORD for --lrs; "
                    "or the MESOSIM_LRS_AUTH environment variable. Never on the command line, where every user "
                    "of the machine can read it")
    add_library_option(rp)

    co = sub.add_parser("cohort", help="the gradebook over time: learning curves, pass rates, common findings")
    co.set_defaults(func=cmd_cohort)
    co.add_argument("--trainee", metavar="NAME")
    co.add_argument("--scenario", metavar="ID")
    co.add_argument("--format", choices=("pdf", "csv", "json"), required=True)
    co.add_argument("-o", "--output", metavar="OUT")
    co.add_argument("--db", metavar="URL", help="the gradebook (default: as configured)")

    rs = sub.add_parser("rescore", help="score attempt records again with today's specs (a whole cohort at once)")
    rs.set_defaults(func=cmd_rescore)
    rs.add_argument("records", metavar="ATTEMPT", nargs="+")
    rs.add_argument("--format", choices=("json", "text"), default="json")
    rs.add_argument("--save", metavar="NEW.json", help="write the re-scored attempt as a new signed record "
                    "(one ATTEMPT)")
    rs.add_argument("--save-dir", metavar="DIR", help="write every re-scored attempt as a new signed record "
                    "DIR/NAME (several ATTEMPTs)")
    add_library_option(rs)

    rpl = sub.add_parser("replay", help="show an attempt injection by injection in the window")
    rpl.set_defaults(func=cmd_replay_record)
    rpl.add_argument("record", metavar="ATTEMPT")
    add_library_option(rpl)

    vf = sub.add_parser("verify", help="tell which attempt records are intact (signature verified)")
    vf.set_defaults(func=cmd_verify)
    vf.add_argument("records", nargs="+", metavar="ATTEMPT")

    se = sub.add_parser("seal", help="seal verified records with the centre's Ed25519 key, for records that leave "
                        "the centre (checked with the public key alone)")
    se.set_defaults(func=cmd_seal)
    se.add_argument("records", nargs="*", metavar="ATTEMPT")
    se.add_argument("--key", metavar="FILE", help="the centre's private key (made by --new-key; kept on the "
                    "assessor's machine, never on a station)")
    se.add_argument("-o", "--output", metavar="DIR", help="where the sealed records go (their names kept)")
    se.add_argument("--new-key", metavar="FILE", help="make a centre key: FILE (private, 0600) and FILE.pub")

    n = sub.add_parser("new", help="write a commented scenario template that validates as it is")
    n.set_defaults(func=cmd_new)
    n.add_argument("--map", choices=("face", "scalp"), required=True)
    n.add_argument("--technique", metavar="ID", required=True, help="a technique id (mesosim techniques)")
    n.add_argument("-o", "--output", metavar="FILE", required=True)
    n.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    pv = sub.add_parser("preview", help="draw a scenario's map, targets, no-go spots and danger structures to a PNG")
    pv.set_defaults(func=cmd_preview)
    pv.add_argument("scenario", metavar="SCENARIO")
    pv.add_argument("-o", "--output", metavar="PNG", required=True)
    pv.add_argument("--size", metavar="WxH", default="1200x900")
    pv.add_argument("--no-danger", action="store_true", help="leave the danger structures out (as in an exam)")
    add_library_option(pv)

    cal = sub.add_parser("calibrate", help="standard setting: simulated competent and novice attempts, their pass "
                         "rates, the AUC, the proposed pass mark, one-error sweeps")
    cal.set_defaults(func=cmd_calibrate)
    cal.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    cal.add_argument("--format", choices=("text", "json"), default="text")
    cal.add_argument("--plot", metavar="PNG", help="draw both groups' score distributions and the pass marks")
    cal.add_argument("--attempts", type=ascii_int, metavar="N", help="attempts per group (default: "
                     "assets/calibration.yaml)")
    cal.add_argument("--no-sweep", action="store_true", help="leave the one-error sweeps out")
    cal.add_argument("--db", metavar="URL", help="the gradebook whose labelled attempts to use (default: the "
                     "configured one, if there is one)")
    cal.add_argument("--apply", action="store_true", help="write each proposed pass mark into its scenario file "
                     "(comments and layout kept)")
    add_library_option(cal)

    pl = sub.add_parser("plan", help="lay out an exercise's reference solution (and flawed ones) from its "
                        "instructed values")
    pl.set_defaults(func=cmd_plan)
    pl.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    pl.add_argument("-o", "--output", metavar="LOG.csv", help="write the log here (default: standard output)")
    pl.add_argument("--flaw", metavar="NAME", help="the flawed solution of that name (its log file's name, e.g. "
                    "too-deep) instead of the reference")
    pl.add_argument("--write", action="store_true", help="write every solution the scenario file names to its "
                    "path beside the file, then score them as validate does")
    add_library_option(pl)

    gb = sub.add_parser("gradebook", help="the gradebook: add saved records, label attempts, list them")
    gbs = gb.add_subparsers(dest="gradebook_command", metavar="import|label|list|check", parser_class=_Parser,
                            required=True)
    gi = gbs.add_parser("import", help="add saved attempt records to the gradebook (once each: importing again "
                        "adds nothing)")
    gi.set_defaults(func=cmd_gradebook_import)
    gi.add_argument("records", nargs="+", metavar="RECORD.json")
    gi.add_argument("--db", metavar="URL", help="the gradebook (default: as configured)")
    gi.add_argument("--when", metavar="ISO", help="the time of attempts whose record carries none (records saved by "
                    "earlier versions; default: the file's modification time), e.g. 2026-05-09T14:30")
    gi.add_argument("--unverified", action="store_true", help="also add records whose signature does not verify "
                    "here, marked as not verified")
    gla = gbs.add_parser("label", help="an instructor's judgement of an attempt: competent or not-competent "
                         "(labelling again replaces it)")
    gla.set_defaults(func=cmd_gradebook_label)
    gla.add_argument("attempt", metavar="ATTEMPT_ID", help="the id `mesosim gradebook list` shows (or the record's "
                     "attempt_id)")
    gla.add_argument("label", choices=("competent", "not-competent"))
    gla.add_argument("--by", metavar="NAME", help="who labels it (default: the login name)")
    gla.add_argument("--db", metavar="URL", help="the gradebook (default: as configured)")
    gch = gbs.add_parser("check", help="verify every attempt in the gradebook again: its row, its record's hash "
                         "and signature, its report scored again with the specs here (a centre's server-side result)")
    gch.set_defaults(func=cmd_gradebook_check)
    _selection_options(gch)
    gli = gbs.add_parser("list", help="the attempts in the gradebook: id, trainee, exercise, date, score, passed, "
                         "label")
    gli.set_defaults(func=cmd_gradebook_list)
    _selection_options(gli)

    r = sub.add_parser("run", help="open the trainer (the scenario picker, or straight to SCENARIO)")
    r.set_defaults(func=cmd_run)
    r.add_argument("scenario", metavar="SCENARIO", nargs="?", default=None,
                   help="a scenario file or the id of a shipped scenario; without it the picker opens")
    r.add_argument("--mode", choices=("practice", "exam"), help="override the scenario's mode")
    r.add_argument("--trainee", metavar="NAME", help="the trainee's name, kept in the attempt record")
    r.add_argument("--replay", metavar="LOG.csv", help="play an injection log through the window, submit and exit")
    r.add_argument("--screenshot", metavar="OUT.png", help="save a picture of the summary when the attempt is submitted")
    r.add_argument("--save", metavar="ATTEMPT.json", help="where to save the attempt (default: the user data folder)")
    r.add_argument("--screening", metavar="DECISION[:REASON]",
                   help="with --replay: the screening decision, e.g. no-go:pregnancy")
    r.add_argument("--resume", action="store_true",
                   help="with --replay: go on with an unfinished attempt's journal (after a crash) without asking")
    add_library_option(r)
    return p


def _report_problems(problems: list[Problem]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_INPUT


def cmd_validate(args) -> int:
    from sim.core.exercise.scenario import (duplicate_id_problems, library_folder_problems, load_scenario_file,
                                            scenario_files)
    from sim.core.scoring.config import load_config
    from sim.core.scoring.solutions import check_passable, check_solutions
    from sim.core.exercise.techniques import load_library

    library, config = load_library(), load_config()

    problems: list[Problem] = library_folder_problems()
    checked = 0
    every: list[Path] = []
    for raw in args.paths:
        path = Path(raw)
        try:
            is_dir, exists = path.is_dir(), path.exists()
        except (OSError, ValueError) as exc:
            from sim.core.files.safeio import os_problem

            problems.append(Problem(raw, 0, 0, "", os_problem(exc) if isinstance(exc, OSError) else
                                    "the name cannot be used as a file name"))
            checked += 1
            continue
        if is_dir:
            files = scenario_files(path)
            if not files:
                problems.append(Problem(raw, 0, 0, "", "the folder holds no scenario files (*.yaml)"))
        elif exists:
            files = [path]
        else:
            problems.append(Problem(raw, 0, 0, "", "no such file or folder"))
            files = []
        every += files
        for f in files:
            checked += 1
            try:
                scn = load_scenario_file(f, library)
                problems.extend(check_passable(scn, library))
                problems.extend(check_solutions(scn, library, config))
            except InputError as exc:
                problems.extend(exc.problems)
    problems.extend(duplicate_id_problems(every))
    if problems:
        first = {}
        for p in problems:
            first.setdefault(p.file, len(first))
        _report_problems(sorted(problems, key=lambda p: (first[p.file], p.line, p.col, p.path, p.message)))
        bad = len({p.file for p in problems})
        print(f"{bad} of {checked} scenario file(s) have problems", file=sys.stderr)
        return EXIT_INPUT
    print(f"{checked} scenario file(s) valid")
    return EXIT_OK


def cmd_techniques(args) -> int:
    from sim.core.exercise.techniques import load_library

    lib = load_library()
    if args.format == "json":
        data = {
            "limits": lib.limits.model_dump(mode="json"),
            "techniques": [t.model_dump(mode="json", exclude_none=True) | {"reach_mm_effective": round(t.reach(), 3)}
                           for t in lib.techniques.values()],
        }
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return EXIT_OK
    for t in lib.techniques.values():
        print(f"{t.id}: {t.name} ({', '.join(t.maps)})")
        print(f"    {t.summary}")
        print(f"    depth {t.depth_mm.describe('mm')}, angle {t.angle_deg.describe('deg')}, "
              f"spacing {t.spacing_mm.describe('mm')}, volume {t.volume_ml.describe('ml')} per point")
        print(f"    layer {' or '.join(t.layer.ok)}, bevel {t.bevel.required}, products "
              f"{' or '.join(t.products.allowed)}, devices {' or '.join(t.devices.allowed)}")
    lim = lib.limits
    print(f"All techniques: at most {lim.max_volume_ml.value:g} ml per point; on the face at most "
          f"{lim.face_max_depth_mm.value:g} mm deep outside {', '.join(lim.face_max_depth_mm.exempt)}; "
          f"mesoinjector {lim.gun.rate_per_min:g} per minute, refused in regions tagged "
          f"{', '.join(lim.gun.refused_tags)}.")
    return EXIT_OK


def cmd_schema(args) -> int:
    from sim.core.exercise.schema import scenario_schema_text, schema_header
    from sim.paths import installed_schema_file, user_library_dir

    text = scenario_schema_text()
    if args.install:
        if args.output:
            return _report_problems([Problem("--install", 0, 0, "", "--install writes beside your library; leave "
                                             "-o out, or -o FILE without --install")])
        target = installed_schema_file()
        try:
            user_library_dir().mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _report_problems([Problem(str(target), 0, 0, "", f"cannot write: {exc.strerror or exc}")])
        print(f"wrote {target}; your library is {user_library_dir()}")
        print("start scenario files with this line (mesosim new does), wherever they are:")
        print(schema_header(target.resolve().as_uri()))
        return EXIT_OK
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _report_problems([Problem(args.output, 0, 0, "", f"cannot write: {exc.strerror or exc}")])
    else:
        sys.stdout.write(text)
    return EXIT_OK


def parse_screening(text: str | None):
    from sim.core.scoring import ScreeningAnswer

    if text is None:
        return None
    decision, _, reason = text.partition(":")
    decision = decision.strip()
    if decision not in ("go", "postpone", "no-go"):
        raise InputError.one("--screening", f'"{decision}" is not a decision; use go, postpone or no-go')
    return ScreeningAnswer(decision, reason.strip() or None)


def cmd_score(args) -> int:
    from sim.core.files.safeio import require_regular
    from sim.core.scoring.injections import read_log
    from sim.core.exercise.scenario import load_scenario
    from sim.core.scoring.config import load_config
    from sim.core.scoring import evaluate
    from sim.core.scoring.report import build_report, to_json, to_text
    from sim.core.exercise.techniques import load_library

    library = load_library()
    config = load_config()
    answer = parse_screening(args.screening)
    scenario = load_scenario(args.scenario, library)
    require_regular(args.log)
    inj = read_log(args.log, library.ids, scenario.technique_ids)
    report = build_report(evaluate(scenario, inj, library, config, answer))
    sys.stdout.write(to_json(report) if args.format == "json" else to_text(report))
    sys.stdout.flush()
    if args.save:
        from sim.core.records.attempt import Attempt
        from sim.session import save_attempt, write_failure

        attempt = Attempt(scenario, library, config, args.mode or scenario.spec.mode, args.trainee, answer,
                          inj.records(), provenance="scored-log")
        try:
            saved = save_attempt(attempt, args.save, args.db, source={"kind": "injection log", "file": str(args.log)},
                                 times_known=False)
        except OSError as exc:
            return _report_problems([Problem(exc.filename or args.save, 0, 0, "", write_failure(exc))])
        if saved.gradebook_problem is not None:
            _report_problems(saved.gradebook_problem.problems)
            print(saved.note, file=sys.stderr)
            return EXIT_INPUT if isinstance(saved.gradebook_problem, InputError) else EXIT_UNAVAILABLE
    return EXIT_OK


def cmd_report(args) -> int:
    import os

    import sim.exports as reports

    if args.lrs and args.format != "xapi":
        return _report_problems([Problem("--lrs", 0, 0, "", "--lrs goes with --format xapi")])
    if args.format == "pdf" and args.output in (None, "-"):
        return _report_problems([Problem("-o", 0, 0, "", "a PDF needs an output file: -o REPORT.pdf")])
    if args.lrs_auth is not None:
        return _report_problems([Problem("--lrs-auth", 0, 0, "", "a password on the command line can be read by "
                                         "every user of this machine (ps); put USER:PASSWORD in a file readable by "
                                         "you only and give --lrs-auth-file FILE, or set MESOSIM_LRS_AUTH")])
    if args.lrs and args.format != "xapi":
        return _report_problems([Problem("--lrs", 0, 0, "", "--lrs goes with --format xapi")])
    auth = None
    if args.lrs:
        auth = _lrs_auth(args.lrs_auth_file) if args.lrs_auth_file else os.environ.get("MESOSIM_LRS_AUTH")
    items = reports.load_records(args.records)
    if args.format != "xapi":
        reports.write(items, args.format, args.output)
        return EXIT_OK
    from sim.exports.xapi import post_statements, xapi_statements

    statements = xapi_statements(items)
    reports.emit(json.dumps(statements, indent=2, ensure_ascii=False) + "\n", args.output)
    if args.lrs:
        from sim.errors import RefusedError
        from sim.exports.xapi import safe_address

        bad = [Problem(it.path, 0, 0, "", f"{it.status}; an unverified record is not posted") for it in items
               if not it.verified]
        if bad:
            raise RefusedError(bad + [Problem("--lrs", 0, 0, "", "nothing was posted")])
        status = post_statements(statements, args.lrs, auth)
        had = " (the record store had them already)" if status == 204 else ""
        print(f"posted {len(statements)} statement(s) to {safe_address(args.lrs)} (HTTP {status}){had}",
              file=sys.stderr)
    return EXIT_OK


def _lrs_auth(path: str) -> str:
    """USER:PASSWORD from a file of the user's own (its first line)."""
    from sim.core.files.safeio import read_bounded

    text = read_bounded(path, 4096, "credentials file").decode("utf-8", "replace").strip().splitlines()
    if not text or ":" not in text[0]:
        raise InputError.one(path, "expected one line USER:PASSWORD")
    return text[0]


def cmd_cohort(args) -> int:
    from sim.gradebook import Gradebook
    import sim.exports as reports

    if args.format == "pdf" and args.output in (None, "-"):
        return _report_problems([Problem("-o", 0, 0, "", "a PDF needs an output file: -o COHORT.pdf")])
    with Gradebook(args.db) as book:
        book.check_selection(args.trainee, args.scenario)
        rows = book.attempts(args.trainee, args.scenario)
    if not rows:
        print("the gradebook holds no attempt for this selection", file=sys.stderr)
    if args.format == "csv":
        from sim.exports.tables import cohort_csv

        data: str | bytes = cohort_csv(rows)
    else:
        from sim.exports.cohort import cohort_pdf, cohort_summary

        summary = cohort_summary(rows, args.trainee, args.scenario)
        data = (json.dumps(summary, indent=2, ensure_ascii=False) + "\n" if args.format == "json"
                else cohort_pdf(summary))
    reports.emit(data, args.output)
    return EXIT_OK


def cmd_rescore(args) -> int:
    """Score attempt records again with today's specs; the attempts of one exercise are scored together."""
    from sim.core.exercise.techniques import load_library
    from sim.core.scoring.config import load_config
    from sim.core.scoring.report import to_json, to_text
    from sim.session import rescore, save_rescored

    if args.save and len(args.records) > 1:
        print("mesosim rescore: --save takes one ATTEMPT; use --save-dir DIR for several", file=sys.stderr)
        return EXIT_INPUT
    names = [Path(p).name for p in args.records]
    if args.save_dir and len(set(names)) < len(names):
        print("mesosim rescore: --save-dir needs ATTEMPT files with different names", file=sys.stderr)
        return EXIT_INPUT
    done = rescore(args.records, load_library(), load_config())
    from sim.errors import RefusedError

    refused: list[Problem] = []
    for item in done:
        if item.exercise_note:
            print(f"note: {item.loaded.path}: {item.exercise_note}", file=sys.stderr)
        elif item.changed_exercise:
            print(f"note: the exercise file has changed since the attempt {item.loaded.path} "
                  f"({item.attempt.scenario.file})", file=sys.stderr)
        if not item.loaded.verified:
            print(f"note: {item.loaded.path}: {item.loaded.status}", file=sys.stderr)
        target = args.save or (Path(args.save_dir) / Path(item.loaded.path).name if args.save_dir else None)
        if target:
            try:
                save_rescored(item, target)
            except RefusedError as exc:
                refused += exc.problems
    if refused:
        _report_problems(refused)
    code = EXIT_UNAVAILABLE if refused else EXIT_OK
    if len(done) == 1:
        report = done[0].report
        sys.stdout.write(to_json(report) if args.format == "json" else to_text(report))
        return code
    if args.format == "json":
        rows = [{"file": d.loaded.path, "trainee": d.loaded.record.get("trainee", ""),
                 "score_before": (d.loaded.record.get("report") or {}).get("score"), "verified": d.loaded.verified,
                 "verification": d.loaded.status, "report": d.report} for d in done]
        sys.stdout.write(to_json(rows))
    else:
        for d in done:
            before = (d.loaded.record.get("report") or {}).get("score")
            verdict = "PASSED" if d.report["passed"] else "NOT PASSED"
            print(f"{d.loaded.path}\t{one_line(d.loaded.record.get('trainee', ''))}\t{d.report['scenario']}\t"
                  f"{before} -> {d.report['score']}\t{verdict}\t{d.loaded.marker}")
    return code


def cmd_gradebook_import(args) -> int:
    """Saved records into the gradebook: those a save could not add, those of another station."""
    from sim.session import import_records, parse_when

    when = parse_when(args.when) if args.when else None
    result = import_records(args.records, args.db, when, args.unverified)
    for item in result.imported:
        what = f"added as attempt {item.row}" if item.added else f"already in the gradebook as attempt {item.row}"
        note = " (its own time; --when is for records without one)" if args.when and item.own_time else ""
        print(f"{item.path}: {what}{note}")
    _report_problems(sorted(result.bad + result.refused))
    added = sum(i.added for i in result.imported)
    print(f"{added} record(s) added, {len(result.imported) - added} already in the gradebook"
          + (f", {len(result.refused) + len(result.bad)} not added" if result.refused or result.bad else ""),
          file=sys.stderr)
    return EXIT_INPUT if result.bad else EXIT_UNAVAILABLE if result.refused else EXIT_OK


def cmd_gradebook_check(args) -> int:
    """Every attempt of the gradebook verified from what the database holds, with the specs of this machine: the
    result a centre trusts is this one, computed where the trainee is not."""
    from sim.gradebook import Gradebook
    from sim.session import verify_rows

    with Gradebook(args.db) as book:
        rows = book.attempts(args.trainee, args.scenario, with_records=True)
    verify_rows(rows)
    bad = [r for r in rows if not r["verified"]]
    if args.format == "json":
        keys = ("id", "uid", "trainee", "scenario", "mode", "when", "received", "score", "passed", "verified",
                "verification", "exam_result", "standing")
        print(json.dumps([{k: r.get(k) for k in keys} for r in rows], indent=2, ensure_ascii=False))
    else:
        for r in rows:
            extra = f"; {r['standing']}" if r.get("standing") else ""
            print(f"attempt {r['id']} ({one_line(r['trainee'])}, {r['scenario']}, {_short_time(r['when'])}, "
                  f"score {r['score']:.1f}): {r['verification']}{extra}")
        print(f"{len(rows)} attempt(s) checked, {len(bad)} NOT verified", file=sys.stderr)
    return EXIT_UNAVAILABLE if bad else EXIT_OK


def cmd_gradebook_label(args) -> int:
    from sim.gradebook import Gradebook

    by = args.by
    if by is None:
        import getpass

        try:
            by = getpass.getuser()
        except (KeyError, OSError):
            by = ""
    with Gradebook(args.db) as book:
        row = book.label(args.attempt, args.label, by.strip())
    print(f"attempt {row['id']} ({row['trainee']}, {row['scenario']}, {_short_time(row['when'])}): {args.label}"
          + (f" (by {row['labelled_by']})" if row["labelled_by"] else ""))
    return EXIT_OK


def _short_time(stamp: str | None) -> str:
    """2026-05-09T14:30:05+02:00 as 2026-05-09 14:30 (the offset and seconds are in --format json)."""
    return (stamp or "")[:16].replace("T", " ")


def cmd_gradebook_list(args) -> int:
    from sim.errors import one_line
    from sim.gradebook import Gradebook

    with Gradebook(args.db) as book:
        book.check_selection(args.trainee, args.scenario)
        rows = book.attempts(args.trainee, args.scenario)
    if args.format == "json":
        keys = ("id", "uid", "trainee", "scenario", "when", "score", "passed", "signed", "why", "label",
                "labelled_by", "labelled_at")
        print(json.dumps([{k: r[k] for k in keys} for r in rows], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("the gradebook holds no attempt for this selection", file=sys.stderr)
        return EXIT_OK
    table = [("id", "trainee", "scenario", "date", "score", "passed", "label")]
    table += [(str(r["id"]), one_line(r["trainee"]), r["scenario"], _short_time(r["when"]),
               f"{r['score']:.1f}" + ("" if r["signed"] else " NOT VERIFIED"),
               "yes" if r["passed"] else "no", r["label"] or "-") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.rjust(w) if i in (0, 4) else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
    return EXIT_OK


def cmd_replay_record(args) -> int:
    import os

    from sim.core.records.signing import read_record_file

    rec, form = read_record_file(args.record)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from sim.ui.app import NoDisplayError, Options, run_app

    try:
        return run_app(Options(view_record=rec, view_record_path=str(args.record), view_record_form=form))
    except NoDisplayError as exc:
        print(f"mesosim: no display is available to show the attempt ({exc}); use `mesosim report` instead.",
              file=sys.stderr)
        return EXIT_INPUT


def cmd_verify(args) -> int:
    from sim.core.records.signing import read_record
    from sim.session import check_signature, signature_status

    from sim.session import load_record

    bad = 0
    for path in args.records:
        try:
            item = load_record(path)
            ok, status = item.verified, item.status + (f"; {item.standing}" if item.standing else "")
        except InputError as exc:
            why = "; ".join(p.message for p in exc.problems)
            try:  # a record that is no record because it was changed: the signature says so first
                signed, sig_why = check_signature(read_record(path, check=False))
                if not signed:
                    why = sig_why
            except InputError:
                pass
            ok, status = False, signature_status(False, why)
        bad += not ok
        print(f"{one_line(str(path))}: {status}")
    return EXIT_OK if not bad else 1


def cmd_seal(args) -> int:
    """Seal records that verify here (every check of `verify`) with the centre's key; make a key."""
    from sim.errors import RefusedError

    if args.new_key:
        from sim.core.records.seal import key_id, load_public, new_key

        if args.records or args.key or args.output:
            return _report_problems([Problem("--new-key", 0, 0, "", "--new-key makes a key and nothing else")])
        try:
            private, public = new_key(args.new_key)
        except FileExistsError:
            return _report_problems([Problem(args.new_key, 0, 0, "", "exists: a centre key is never overwritten")])
        except OSError as exc:
            return _report_problems([Problem(args.new_key, 0, 0, "", f"cannot write: {exc.strerror or exc}")])
        print(f"wrote {private} (keep it on the assessor's machine) and {public} (centre "
              f"{key_id(load_public(public))}: give it to whoever checks sealed records, in MESOSIM_TRUSTED_KEYS)")
        return EXIT_OK
    if not args.records or not args.key or not args.output:
        return _report_problems([Problem("seal", 0, 0, "", "give ATTEMPT..., --key FILE and -o DIR (or --new-key "
                                         "FILE)")])
    from sim.core.records.seal import load_private, seal
    from sim.core.records.signing import record_text
    from sim.core.files.atomic import write_atomic
    from sim.session import load_records

    private = load_private(args.key)
    items = load_records(args.records)
    bad = [Problem(it.path, 0, 0, "", f"{it.status}; only a record that verifies here is sealed") for it in items
           if not it.verified]
    if bad:
        raise RefusedError(bad + [Problem("seal", 0, 0, "", "nothing was sealed")])
    out = Path(args.output)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    for it in items:
        target = out / Path(it.path).name
        try:
            write_atomic(target, record_text(seal(it.raw, private)).encode("utf-8"))
        except OSError as exc:
            return _report_problems([Problem(str(target), 0, 0, "", f"cannot write: {exc.strerror or exc}")])
        print(f"{it.path}: sealed as {target}")
    return EXIT_OK


def cmd_run(args) -> int:
    import os

    from sim.core.exercise.scenario import library_folder_problems, load_scenario
    from sim.core.exercise.techniques import load_library

    library = load_library()
    scenario_ref = args.scenario
    if library_folder_problems():  # bad input is reported before a window opens
        raise InputError(library_folder_problems())
    if scenario_ref is not None or args.replay:
        scenario = load_scenario(scenario_ref or DEFAULT_SCENARIO, library)
        if args.replay:
            from sim.core.files.safeio import require_regular
            from sim.core.scoring.injections import read_log

            require_regular(args.replay)
            read_log(args.replay, library.ids, scenario.technique_ids)
    answer = parse_screening(args.screening)
    if args.replay and not os.environ.get("SDL_VIDEODRIVER") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["SDL_VIDEODRIVER"] = "dummy"  # a replay needs no screen: it runs headless
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        from sim.ui.app import NoDisplayError, Options, run_app
    except ImportError as exc:  # pragma: no cover - a broken installation
        print(f"mesosim: the trainer window needs pygame-ce and pygame_gui ({exc})", file=sys.stderr)
        return 1
    options = Options(scenario=scenario_ref, picker_default=DEFAULT_SCENARIO, mode=args.mode,
                      trainee=args.trainee or "", replay=args.replay, screenshot=args.screenshot, save=args.save,
                      screening=answer, resume=args.resume)
    try:
        return run_app(options)
    except NoDisplayError as exc:
        print(f"mesosim: no display is available to open the trainer window ({exc}); run it on a desktop, or "
              "use `mesosim run SCENARIO --replay LOG.csv` or `mesosim score`, which need none.", file=sys.stderr)
        return EXIT_INPUT


def cmd_plan(args) -> int:
    """A reference solution planned from the exercise's `instructed:` values, a flawed one from its `plan:`."""
    from sim.core.exercise.scenario import load_scenario
    from sim.core.exercise.techniques import load_library
    from sim.core.scoring.config import load_config
    from sim.core.scoring.injections import Injections, write_log
    from sim.core.scoring.planner import plan_flawed, plan_reference, plan_solutions
    from sim.core.scoring.solutions import check_solutions

    library = load_library()
    if (args.output or args.flaw) and args.write:
        return _report_problems([Problem("--write", 0, 0, "", "--write writes every solution to the paths the "
                                         "scenario file names; leave out -o and --flaw")])
    if not args.write and len(args.scenarios) > 1:
        return _report_problems([Problem("SCENARIO", 0, 0, "", "one scenario at a time without --write")])
    if not args.write:
        scenario = load_scenario(args.scenarios[0], library, solutions_needed=False)
        rows = plan_reference(scenario, library)
        if args.flaw:
            flawed = [f for f in (scenario.spec.solutions.flawed if scenario.spec.solutions else [])
                      if Path(f.log).stem == args.flaw]
            names = [Path(f.log).stem for f in scenario.spec.solutions.flawed] if scenario.spec.solutions else []
            if not flawed or flawed[0].plan is None:
                why = "names no such flawed solution" if not flawed else "gives it no plan:"
                return _report_problems([Problem(scenario.file, 0, 0, "solutions.flawed", f'--flaw {args.flaw}: the '
                                                 f"exercise {why}" + (f"; flawed: {', '.join(names)}" if names else ""))])
            rows = plan_flawed(scenario, library, rows, flawed[0].plan)
        text = write_log(Injections.from_records(rows, library.ids))
        if args.output:
            try:
                Path(args.output).parent.mkdir(parents=True, exist_ok=True)
                Path(args.output).write_text(text, encoding="utf-8")
            except OSError as exc:
                return _report_problems([Problem(args.output, 0, 0, "", f"cannot write: {exc.strerror or exc}")])
            print(f"{args.output}: {len(rows)} injections", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    config = load_config()
    problems: list[Problem] = []
    for ref in args.scenarios:
        scenario = load_scenario(ref, library, solutions_needed=False)
        folder = Path(scenario.file).parent
        for rel, rows in plan_solutions(scenario, library).items():
            target = folder / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                write_log(Injections.from_records(rows, library.ids), target)
            except OSError as exc:
                problems.append(Problem(str(target), 0, 0, "", f"cannot write: {exc.strerror or exc}"))
                continue
            print(f"{target}: {len(rows)} injections")
        problems += check_solutions(load_scenario(str(scenario.file), library), library, config)
    return _report_problems(problems) if problems else EXIT_OK


def _labelled_attempts(scenario, library, db: str | None, cal):
    """The real attempts of this exercise an instructor labelled in the gradebook, scored again with today's specs
    (sim.core.scoring.calibration.Real), or None when there is no gradebook to read. A gradebook that cannot be
    read is said on stderr and calibration goes on with the simulated groups."""
    from sim.core.scoring.calibration import LABELS, real_groups
    from sim.core.scoring.config import load_config
    from sim.core.scoring.findings import ScreeningAnswer
    from sim.core.scoring.injections import Injections
    from sim.gradebook import configured, labelled
    from sim.paths import gradebook_file
    from sim.session import check_signature

    try:
        url, where = configured(db)
    except InputError as exc:
        _report_problems(exc.problems)
        return None
    if where == "gradebook" and not gradebook_file().is_file():
        return None  # no gradebook yet: nothing labelled
    try:
        rows = labelled(scenario.id, url)
    except Exception as exc:  # a gradebook that cannot be read is no reason to stop a calibration
        message = exc.problems[0].message if isinstance(exc, InputError) else str(exc).splitlines()[0]
        print(f"{where}: the gradebook could not be read ({message}); the simulated groups are used",
              file=sys.stderr)
        return None
    usable, left_out = [], 0
    for record, label in rows:
        verified, _why = check_signature(record)
        try:
            if not verified or label not in LABELS:
                raise ValueError
            inj = Injections.from_records(record.get("injections") or [], library.ids)
            s = record.get("screening")
            answer = ScreeningAnswer(s["decision"], s.get("reason")) if isinstance(s, dict) else None
        except (ValueError, KeyError, TypeError, InputError):
            left_out += 1
            continue
        usable.append((inj, answer, label))
    if not rows:
        return None
    return real_groups(scenario, usable, library, load_config(), cal.labelled.min_per_group, left_out)


def cmd_calibrate(args) -> int:
    """Contrasting groups for each exercise, from its reference solution (docs/scoring.md)."""
    from sim.core.exercise.scenario import load_scenario
    from sim.core.exercise.techniques import load_library
    from sim.core.scoring.calibration import calibrate, load_calibration, to_text
    from sim.core.scoring.config import load_config
    from sim.core.scoring.injections import read_log
    from sim.core.scoring.solutions import parse_answer

    library, config, cal = load_library(), load_config(), load_calibration()
    if args.attempts is not None:
        if not 10 <= args.attempts <= 100_000:
            return _report_problems([Problem("--attempts", 0, 0, "", "between 10 and 100000 attempts per group")])
        cal = cal.model_copy(update={"attempts": args.attempts})
    results = []
    for ref in args.scenarios:
        scenario = load_scenario(ref, library)
        sol = scenario.spec.solutions
        if sol is None:
            return _report_problems([Problem(scenario.file, 0, 0, "solutions", "calibration starts from the "
                                             "exercise's reference solution; this exercise has none")])
        reference = read_log(Path(scenario.file).parent / sol.reference.log, library.ids, scenario.technique_ids)
        real = _labelled_attempts(scenario, library, args.db, cal) if len(reference) else None
        results.append(calibrate(scenario, reference, parse_answer(sol.reference.screening), library, config, cal,
                                 with_sweep=not args.no_sweep, real=real))
    if args.format == "json":
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        sys.stdout.write("\n".join(to_text(r) for r in results))
    if args.apply:
        from sim.core.files.roundtrip import set_top_level

        for ref, r in zip(args.scenarios, results):
            if not r.simulated or r.proposed_pass_mark == r.pass_mark:
                continue
            path = load_scenario(ref, library).file
            try:
                set_top_level(path, {"pass_mark": r.proposed_pass_mark})
            except OSError as exc:
                return _report_problems([Problem(str(path), 0, 0, "pass_mark",
                                                 f"cannot write: {exc.strerror or exc}")])
            print(f"{path}: pass_mark {r.pass_mark:g} -> {r.proposed_pass_mark:g}", file=sys.stderr)
    if args.plot:
        from sim.exports.plots import calibration_png

        if not any(r.simulated for r in results):
            return _report_problems([Problem(args.plot, 0, 0, "", "nothing to plot: no exercise given makes an "
                                             "injection in its reference")])
        try:
            Path(args.plot).write_bytes(calibration_png(results))
        except OSError as exc:
            return _report_problems([Problem(args.plot, 0, 0, "", f"cannot write: {exc.strerror or exc}")])
        print(f"wrote {args.plot}", file=sys.stderr)
    return EXIT_OK


def _planned_count(path: Path, library) -> tuple[int, int] | None:
    """The count range a new exercise's planned reference calls for (within 15 % of it), so that a template
    can be passed as it is."""
    import math

    from sim.core.exercise.scenario import load_scenario_file
    from sim.core.scoring.planner import plan_reference

    try:
        n = len(plan_reference(load_scenario_file(path, library), library))
    except InputError:
        return None
    return (max(1, math.floor(n * 0.85)), max(1, math.ceil(n * 1.15))) if n else None


def cmd_new(args) -> int:
    import os

    from sim.paths import assets_dir, installed_schema_file
    from sim.core.exercise.template import render_template
    from sim.core.exercise.techniques import load_library

    out = Path(args.output)
    if not out.parent.is_dir():
        return _report_problems([Problem(str(out), 0, 0, "", f"the folder {out.parent} does not exist; create it "
                                         "first or choose another path")])
    if out.exists() and not args.force:
        return _report_problems([Problem(str(out), 0, 0, "", "the file exists; choose another name or add --force")])
    installed = installed_schema_file()
    if installed.is_file():  # mesosim schema --install: a header that holds wherever the file is moved
        schema = installed.resolve().as_uri()
    else:
        schema = Path(os.path.relpath(assets_dir() / "schema" / "scenario.schema.json", out.resolve().parent)
                      ).as_posix()
    library = load_library()
    text = render_template(args.map, args.technique, out.stem, library, schema)
    try:
        out.write_text(text, encoding="utf-8")
        count = _planned_count(out, library)
        if count:
            out.write_text(re.sub(r"^count: \{min: \d+, max: \d+\}", f"count: {{min: {count[0]}, max: {count[1]}}}",
                                  text, count=1, flags=re.M), encoding="utf-8")
    except OSError as exc:
        return _report_problems([Problem(str(out), 0, 0, "", f"cannot write: {exc.strerror or exc}")])
    print(f"wrote {out}; check it with: mesosim validate {out}")
    return EXIT_OK


def cmd_preview(args) -> int:
    import os
    import re

    from sim.core.exercise.scenario import load_scenario

    m = re.fullmatch(r"([0-9]{3,5})x([0-9]{3,5})", args.size)
    if not m:
        return _report_problems([Problem("--size", 0, 0, "", f'"{args.size}" is not WIDTHxHEIGHT, e.g. 1200x900')])
    scenario = load_scenario(args.scenario, solutions_needed=False)  # drawn while its solutions are to be written
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from sim.ui.preview import save_preview

    try:
        out = save_preview(scenario, args.output, (int(m[1]), int(m[2])), not args.no_danger)
    except Exception as exc:  # pygame.error on an unwritable path or format
        if isinstance(exc, (OSError,)) or type(exc).__name__ == "error":
            return _report_problems([Problem(args.output, 0, 0, "", f"cannot write the picture: {exc}")])
        raise
    print(f"wrote {out}")
    from sim.core.exercise.scenario import missing_solution_logs

    missing = missing_solution_logs(scenario)
    if missing:
        print(f"note: {scenario.file}: solution logs not written yet: {', '.join(missing)} (mesosim validate needs "
              "them)", file=sys.stderr)
    return EXIT_OK


RESULT_COMMANDS = ("score", "rescore", "report", "verify", "cohort", "gradebook", "seal")
"""Commands whose output is a result: they parse every YAML file rather than trust the user's parse cache."""
MAX_ARGUMENT = 4096
"""The longest argument accepted [characters] (a path the system takes is at most 4,096 bytes)."""
MAX_NAME = 200
"""The longest trainee or instructor name accepted [characters]."""


def check_arguments(args) -> list[Problem]:
    """Arguments a user typed that no command can use: over-long ones, names that are not plain one-line text."""
    problems = []
    for key, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str) and len(v) > MAX_ARGUMENT:
                problems.append(Problem(f"--{key.replace('_', '-')}" if key not in ("scenario", "log", "records",
                                        "paths", "scenarios", "record", "attempt") else key.upper(), 0, 0, "",
                                        f"an argument of {len(v)} characters; at most {MAX_ARGUMENT} are accepted"))
    db = getattr(args, "db", None)
    if isinstance(db, str) and re.search(r"://[^/@\s]*:[^/@\s]*@", db):
        problems.append(Problem("--db", 0, 0, "", "a password in a URL on the command line can be read by every "
                                "user of this machine (ps): keep it in ~/.pgpass (PostgreSQL) and leave it out of "
                                "the URL, or give the URL in MESOSIM_DB or config.yaml"))
    for key in ("trainee", "by"):
        v = getattr(args, key, None)
        if isinstance(v, str) and v:
            why = name_problem(v)
            if why:
                problems.append(Problem(f"--{key}", 0, 0, "", why))
    return problems


def name_problem(name: str) -> str:
    """Why a person's name cannot be kept in a record ("" when it can): it is shown in reports, tables and PDFs,
    where a line break or a control character could forge what a reader sees."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not UTF-8 text (set the terminal's encoding to UTF-8)"
    if len(name) > MAX_NAME:
        return f"a name of {len(name)} characters; at most {MAX_NAME} are accepted"
    if any(not c.isprintable() for c in name):
        return "the name holds a line break or another control character; give it on one line"
    if not name.strip():
        return "the name is only spaces"
    return ""


def main(argv: list[str] | None = None) -> int:
    import errno
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # stdout carries reports: never pygame's greeting
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run"])
    from sim.paths import set_library_dirs

    set_library_dirs(getattr(args, "library", None) or [])
    problems = check_arguments(args)
    if problems:
        return _report_problems(problems)
    from sim.core.files.yamlio import parse_cache

    cache_was = parse_cache.enabled
    if args.command in RESULT_COMMANDS:
        parse_cache.enabled = False
    try:
        return _run(args)
    finally:
        parse_cache.enabled = cache_was


def _run(args) -> int:
    import errno

    from sim.errors import RefusedError

    try:
        return args.func(args)
    except InputError as exc:
        return _report_problems(exc.problems)
    except RefusedError as exc:  # a record that does not verify, refused for what it would be used for
        _report_problems(exc.problems)
        return EXIT_UNAVAILABLE
    except UnavailableError as exc:  # the gradebook's database cannot be used just now: not bad input
        _report_problems(exc.problems)
        return EXIT_UNAVAILABLE
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR, errno.EILSEQ):
            from sim.core.files.safeio import os_problem

            return _report_problems([Problem(str(exc.filename or "mesosim"), 0, 0, "", os_problem(exc))])
        raise
    except RecursionError:
        return _report_problems([Problem("mesosim", 0, 0, "", "an input is nested too deeply to be read")])
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
