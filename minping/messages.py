"""What the command line says, in Chinese or English.

The language is Chinese when ``MINPING_LANG=zh`` (or ``zh_CN``...), or, when
``MINPING_LANG`` is not set, when the locale (``LC_ALL``, ``LC_MESSAGES``,
``LANG``) is a Chinese one; English otherwise.  ``MINPING_LANG=en`` forces
English.  The frame of every message is translated (progress, summaries,
where a problem is and what to do); the text of a problem itself is written
once, in English, by the part of the toolkit that found it, and shown as it is.
Warnings are printed as one plain line (no Python file path or source line).
"""

from __future__ import annotations

import os
import sys

from surveys.errors import MinpingError, Problem

#: key -> (Chinese, English); ``{...}`` fields are filled by :func:`say`
MESSAGES = {
    "reading": ("[{year}] 读取并校验输入文件", "[{year}] reading and validating inputs"),
    "estimating": ("[{year}] 估计指数、区间与排名", "[{year}] estimating indices, intervals and ranks"),
    "rendering": ("[{year}] 生成报告文档", "[{year}] rendering documents"),
    "trends_written": ("跨年比较结果已写入 {path}", "year-over-year changes written to {path}"),
    "warning": ("minping 提示：{text}", "minping: warning: {text}"),
    "error": ("minping：{summary}", "minping: {summary}"),
    "problems": ("（共 {n} 个问题）：", " ({n} problem(s)):"),
    "interrupted": ("minping：已中断", "minping: interrupted"),
    "internal": ("minping：内部错误：{kind}: {text}\n这是 minping 的缺陷。请加 --debug 重新运行以查看调用栈，并报告此问题。",
                 "minping: internal error: {kind}: {text}\n"
                 "This is a bug in minping. Rerun with --debug for the traceback and report it."),
    "file": ("文件 {v}", "file {v}"),
    "row": ("第 {v} 行", "row {v}"),
    "column": ("列 '{v}'", "column '{v}'"),
    "department": ("部门 {v}", "department {v}"),
    "found": ("（实际值：{v}）", " (found: {v})"),
    "fix": ("。修改方法：{v}", ". Fix: {v}"),
    "not_there_yet": ("{year}：输入文件尚未到位（{n} 个，例如 {file}）",
                      "{year}: the input files are not there yet ({n}, e.g. {file})"),
    "no_inputs_yet": ("{year}：项目文件尚未列出本年度的输入文件（在 {path} 中添加 [[inputs]]）",
                      "{year}: the project lists no input files for this year yet (add [[inputs]] to {path})"),
    "rows_per_table": ("{year}：各渠道数据表的行数", "{year}: rows per channel table"),
    "screens": ("{year}：质量筛查", "{year}: quality screens"),
    "quarantined": ("{year}：按原因列出的隔离行数", "{year}: quarantined rows by reason"),
    "ledger_written": ("{year}：隔离清单已写入 {path}", "{year}: ledger written to {path}"),
    "cleared": ("{year}：按列和原因列出的清空单元格（所在行仍被使用）",
                "{year}: cleared cells by column and reason (the rows are used)"),
    "cells_written": ("{year}：清空单元格清单已写入 {path}", "{year}: cleared cells written to {path}"),
    "design": ("{year}：各数据表实际使用的抽样设计", "{year}: the sampling design used per table"),
}


def cli_lang(environ=None) -> str:
    """``"zh"`` or ``"en"`` (see the module docstring)."""
    env = os.environ if environ is None else environ
    chosen = env.get("MINPING_LANG")
    if chosen:
        return "zh" if chosen.lower().startswith("zh") else "en"
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(key)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def say(key: str, lang: str | None = None, **fields) -> str:
    zh, en = MESSAGES[key]
    return (zh if (lang or cli_lang()) == "zh" else en).format(**fields)


def problem_text(p: Problem, lang: str) -> str:
    """One problem: where, what was found, the message and the fix, with the frame in ``lang``."""
    where = [say(k, lang, v=getattr(p, k)) for k in ("file", "row", "column", "department")
             if getattr(p, k) not in (None, "")]
    text = p.message + (say("found", lang, v=repr(p.value)) if p.value is not None else "")
    if where:
        text = ("，" if lang == "zh" else ", ").join(where) + ("：" if lang == "zh" else ": ") + text
    return text + (say("fix", lang, v=p.fix) if p.fix else "")


def error_text(exc: MinpingError, lang: str) -> str:
    """An error as the command line prints it: the summary, then one line per problem."""
    head = say("error", lang, summary=exc.summary)
    if not exc.problems:
        return head
    return "\n".join([head + say("problems", lang, n=len(exc.problems))]
                     + [f"  - {problem_text(p, lang)}" for p in exc.problems])


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` for the command line: one plain line, no source location."""
    print(say("warning", text=str(message)), file=file or sys.stderr, flush=True)
