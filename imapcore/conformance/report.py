"""Results as a matrix per RFC and area, JUnit XML and JSON (for CI systems), and the final line."""

from __future__ import annotations

import json
from collections import defaultdict
from xml.etree import ElementTree as ET

from .runner import ScriptResult, Status


def counts(results: list[ScriptResult]) -> dict[Status, int]:
    totals = {status: 0 for status in Status}
    for result in results:
        totals[result.status] += 1
    return totals


def summary_line(results: list[ScriptResult]) -> str:
    totals = counts(results)
    return f"{totals[Status.PASSED]} passed, {totals[Status.FAILED]} failed, {totals[Status.SKIPPED]} skipped"


def matrix_rows(results: list[ScriptResult]) -> list[tuple[str, str, int, int, int]]:
    """(rfc, area, passed, failed, skipped), sorted by RFC number then area."""
    table: dict[tuple[str, str], dict[Status, int]] = defaultdict(lambda: {s: 0 for s in Status})
    for result in results:
        table[(result.script.rfc_number, result.script.area)][result.status] += 1

    def order(key: tuple[str, str]) -> tuple[int, str]:
        digits = "".join(ch for ch in key[0] if ch.isdigit())
        return (int(digits) if digits else 0, key[1])

    return [
        (rfc, area, cell[Status.PASSED], cell[Status.FAILED], cell[Status.SKIPPED])
        for (rfc, area), cell in sorted(table.items(), key=lambda item: order(item[0]))
    ]


def matrix_text(results: list[ScriptResult]) -> str:
    rows = matrix_rows(results)
    lines = [f"{'RFC':<10} {'area':<22} {'passed':>6} {'failed':>6} {'skipped':>7}"]
    for rfc, area, passed, failed, skipped in rows:
        lines.append(f"{rfc:<10} {area:<22} {passed:>6} {failed:>6} {skipped:>7}")
    return "\n".join(lines)


def failure_text(result: ScriptResult, transcript_lines: int = 40) -> str:
    script = result.script
    head = f"FAIL {script.name} ({script.rfc}, {script.source})"
    if script.dovecot:
        head += f"\n  documented Dovecot deviation: {script.dovecot}"
    body = "\n".join("  " + line for line in result.message.splitlines())
    tail = result.transcript[-transcript_lines:]
    return head + "\n" + body + ("\n  transcript (last lines):\n" + "\n".join("    " + l for l in tail) if tail else "")


def junit_xml(results: list[ScriptResult], name: str = "imapcore-conformance") -> bytes:
    totals = counts(results)
    suites = ET.Element(
        "testsuites", name=name, tests=str(len(results)), failures=str(totals[Status.FAILED]),
        skipped=str(totals[Status.SKIPPED]), time=f"{sum(r.seconds for r in results):.3f}",
    )
    by_area: dict[str, list[ScriptResult]] = defaultdict(list)
    for result in results:
        by_area[f"{result.script.rfc_number}/{result.script.area}"].append(result)
    for area, members in sorted(by_area.items()):
        area_totals = counts(members)
        suite = ET.SubElement(
            suites, "testsuite", name=area, tests=str(len(members)), failures=str(area_totals[Status.FAILED]),
            skipped=str(area_totals[Status.SKIPPED]), time=f"{sum(r.seconds for r in members):.3f}",
        )
        for result in members:
            case = ET.SubElement(
                suite, "testcase", classname=f"conformance.{result.script.area}", name=result.script.name,
                time=f"{result.seconds:.3f}",
            )
            if result.status is Status.FAILED:
                first_line = result.message.splitlines()[0][:500] if result.message else "failed"
                failure = ET.SubElement(case, "failure", message=first_line)
                failure.text = failure_text(result)
            elif result.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", message=result.message)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def json_report(results: list[ScriptResult], server: dict) -> str:
    totals = counts(results)
    return json.dumps(
        {
            "server": server,
            "summary": {status.value: totals[status] for status in Status},
            "checks": sum(r.checks for r in results),
            "matrix": [
                {"rfc": rfc, "area": area, "passed": p, "failed": f, "skipped": s}
                for rfc, area, p, f, s in matrix_rows(results)
            ],
            "scripts": [
                {
                    "name": r.script.name,
                    "rfc": r.script.rfc,
                    "area": r.script.area,
                    "status": r.status.value,
                    "message": r.message,
                    "checks": r.checks,
                    "seconds": round(r.seconds, 3),
                    "dovecot_deviation": r.script.dovecot or None,
                    "transcript": r.transcript[-40:] if r.status is Status.FAILED else [],
                }
                for r in results
            ],
        },
        indent=1,
    )


def matrix_markdown(columns: dict[str, list[ScriptResult]]) -> str:
    """A Markdown table per RFC and area with one "passed / failed / skipped" column per server."""
    names = list(columns)
    cells: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = defaultdict(dict)
    for name, results in columns.items():
        for rfc, area, passed, failed, skipped in matrix_rows(results):
            cells[(rfc, area)][name] = (passed, failed, skipped)

    def order(key: tuple[str, str]) -> tuple[int, str]:
        digits = "".join(ch for ch in key[0] if ch.isdigit())
        return (int(digits) if digits else 0, key[1])

    lines = [
        "| RFC | area | " + " | ".join(f"{name} (passed / failed / skipped)" for name in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for key in sorted(cells, key=order):
        row = [key[0], key[1]]
        for name in names:
            passed, failed, skipped = cells[key].get(name, (0, 0, 0))
            row.append(f"{passed} / {failed} / {skipped}")
        lines.append("| " + " | ".join(row) + " |")
    totals = ["**total**", ""]
    for name in names:
        total = counts(columns[name])
        totals.append(f"**{total[Status.PASSED]} / {total[Status.FAILED]} / {total[Status.SKIPPED]}**")
    lines.append("| " + " | ".join(totals) + " |")
    return "\n".join(lines) + "\n"
