"""From call records to one final disposition per callback case, and call-centre logs as they come.

Precedence rule (documented; AAPOR Standard Definitions families in brackets).
Across a case's attempts the final disposition is the first of these that
occurred on any attempt:

1. ``complete`` [I]           the interview was completed
2. ``partial`` [P]            the interview was partly completed
3. ``never_handled`` [NE]     the person reached says they never handled this matter
4. ``wrong_number`` [NE]      empty, wrong or invalid number
5. ``refusal`` / ``breakoff`` [R]
6. ``other`` [O]
7. ``no_answer`` / ``busy`` / ``switched_off`` [UH]   never reached: eligibility unknown

Outcomes that settle the case's status (1-4) take precedence over refusals,
and any contact over non-contact.  ``never_handled`` and ``wrong_number`` are
kept apart from other not-eligible outcomes because they carry the record
authenticity signal (gate G1): a padded case list shows up as wrong numbers
and people who never handled the matter.

Call results as call centres write them
---------------------------------------
A call centre's log has one row per call and a result word from its own
system.  :data:`CALL_RESULTS` is the vocabulary minping reads, each word with
the disposition it records:

==================================================  ================  =====
result words                                        disposition       AAPOR
==================================================  ================  =====
成功访问 访问成功 完成访问 成功                      complete          I
部分完成 部分访问                                    partial           P
接通 已接通                                          connected (below)
非本人 非本人办理 本人未办理 未办理 否认办理          never_handled     NE
空号 错号 空号错号 号码错误 号码有误 号码不存在      wrong_number      NE
拒访 拒绝 拒绝访问 拒答                              refusal           R
中途挂断                                             breakoff          R
其他                                                 other             O
无人接听 未接听 无应答 振铃未接 未接通               no_answer         UH
占线 忙音 用户忙                                     busy              UH
关机 停机 关机停机 无法接通 暂时无法接通 不在服务区  switched_off      UH
==================================================  ================  =====

Why these.  停机 (a mobile line suspended, usually for arrears) is not 空号: a
real person's number can be suspended, so it is a non-contact of unknown
eligibility, like 关机, and never a padding signal.  非本人 ("not the person
named on the case") records the authenticity signal of G1 with 非本人办理.
A bare 挂断 is left out on purpose: before the first question it is a
refusal, after it a break-off, and only the call centre knows which; declare
it in the project.

``connected`` (接通) only says that someone answered.  The call is the case's
interview when it carries answers: a connected call with at least one
answer is ``complete``; one without answers is ``other`` (a contact without
an interview, reason unknown), unless its log carries no answer columns and
the case has an interview in a separate ``callback_interviews`` file, when
it is ``complete`` (:func:`resolve_connected`).

A project extends or overrides the vocabulary with recodes of the
``outcome`` column (``[tables.callback_attempts.recode.outcome]`` or
``[inputs.recode.outcome]`` in ``project.toml``): ``"转人工" = "other"``,
with a disposition or a word of the vocabulary as the value.  A result
word that neither covers stops the year, naming the words, their counts
and the lines to add: a call set aside would bias every AAPOR rate.

What the results can record.  Gate G1 needs ``never_handled`` to be
recordable: a call centre whose system has no code for "I never handled
this" gives G1 = 100% whatever the truth.  :func:`recordable_dispositions`
is the set of dispositions the results that occur in a log, and the words
the project declares for it, can record; the vocabulary's other words are a
dictionary, not evidence of what the centre's system can write.  A centre
whose code for it did not occur this year declares it
(``"非本人" = "never_handled"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the call-result vocabulary: result word -> disposition (``connected``: see the module notes)
CALL_RESULTS: dict[str, str] = {
    "成功访问": "complete", "访问成功": "complete", "完成访问": "complete", "成功": "complete",
    "部分完成": "partial", "部分访问": "partial",
    "接通": "connected", "已接通": "connected",
    "非本人": "never_handled", "非本人办理": "never_handled", "本人未办理": "never_handled",
    "未办理": "never_handled", "否认办理": "never_handled",
    "空号": "wrong_number", "错号": "wrong_number", "空号错号": "wrong_number", "号码错误": "wrong_number",
    "号码有误": "wrong_number", "号码不存在": "wrong_number",
    "拒访": "refusal", "拒绝": "refusal", "拒绝访问": "refusal", "拒答": "refusal",
    "中途挂断": "breakoff",
    "其他": "other",
    "无人接听": "no_answer", "未接听": "no_answer", "无应答": "no_answer", "振铃未接": "no_answer",
    "未接通": "no_answer",
    "占线": "busy", "忙音": "busy", "用户忙": "busy",
    "关机": "switched_off", "停机": "switched_off", "关机停机": "switched_off", "无法接通": "switched_off",
    "暂时无法接通": "switched_off", "不在服务区": "switched_off",
}
#: a result word that only says someone answered (resolved by :func:`resolve_connected`)
CONNECTED = "connected"

PRECEDENCE = ("complete", "partial", "never_handled", "wrong_number", "refusal", "breakoff", "other",
              "no_answer", "busy", "switched_off")

AAPOR_CODE = {
    "complete": "I", "partial": "P", "refusal": "R", "breakoff": "R", "other": "O",
    "no_answer": "UH", "busy": "UH", "switched_off": "UH", "wrong_number": "NE", "never_handled": "NE",
}


def final_dispositions(attempts: pd.DataFrame) -> pd.DataFrame:
    """One row per case: ``department_id, case_id, disposition, aapor, attempts``.

    Columns
    -------
    disposition : the final outcome by the precedence rule above
    aapor : its AAPOR family code (I, P, R, NC, O, UH, UO, NE)
    attempts : number of call attempts made
    """
    if attempts is None or attempts.empty:
        return pd.DataFrame(columns=["department_id", "case_id", "disposition", "aapor", "attempts"])
    rank = {o: i for i, o in enumerate(PRECEDENCE)}
    r = attempts["outcome"].map(rank).fillna(len(PRECEDENCE)).astype(int)
    tmp = pd.DataFrame({"department_id": attempts["department_id"], "case_id": attempts["case_id"], "r": r})
    g = tmp.groupby(["department_id", "case_id"], sort=True)
    out = g["r"].min().rename("r").reset_index()
    out["attempts"] = g.size().to_numpy()
    names = np.array(PRECEDENCE + ("other",), dtype=object)
    out["disposition"] = names[out["r"].to_numpy()]
    out["aapor"] = out["disposition"].map(AAPOR_CODE)
    return out.drop(columns="r")


#: every final disposition a call result can record
DISPOSITIONS = PRECEDENCE
#: what a result may be recoded to: a disposition, or ``connected``
RESULT_TARGETS = PRECEDENCE + (CONNECTED,)
#: dispositions of a call that produced an interview
INTERVIEWED = ("complete", "partial")


def resolve_connected(outcome: pd.Series, answered: pd.Series, interviewed: pd.Series) -> pd.Series:
    """``connected`` calls as ``complete`` or ``other`` (rule in the module notes); other outcomes unchanged.

    Parameters
    ----------
    outcome : pandas.Series
        Per call, the disposition read from its result (``connected`` for 接通).
    answered : pandas.Series
        bool per call: the call's row carries at least one answer; NA where
        its log has no answer columns.
    interviewed : pandas.Series
        bool per call: its case has an interview in a ``callback_interviews``
        input.

    Returns
    -------
    pandas.Series
        The outcome with every ``connected`` replaced.
    """
    connected = (outcome == CONNECTED).fillna(False).to_numpy(dtype=bool)
    if not connected.any():
        return outcome
    has = answered.astype("boolean")
    done = np.where(has.isna().to_numpy(), interviewed.to_numpy(dtype=bool), has.fillna(False).to_numpy(dtype=bool))
    return outcome.where(~connected, np.where(done, "complete", "other"))


def number_attempts(attempts: pd.DataFrame, order: list[str]) -> pd.Series:
    """Attempt numbers 1, 2, ... per case, in the order of the columns ``order`` (call time, file, row).

    A call log without attempt numbers is numbered by its call times, ties
    broken by the file and row the call came from.
    """
    if attempts.empty:
        return pd.Series(np.zeros(0), index=attempts.index, dtype="float64")
    ranked = attempts.sort_values(order, kind="stable")
    numbers = ranked.groupby(["department_id", "case_id"], sort=False).cumcount() + 1
    return numbers.reindex(attempts.index).astype("float64")


def interviews_from_log(calls: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    """The interview of each case in a call log: its last call (by attempt number) that carries answers and
    whose result recorded an interview (:data:`INTERVIEWED`).

    Returns the rows of ``calls`` chosen, with ``items`` and the call's
    bookkeeping columns, one per department and case.
    """
    answered = calls[items].notna().any(axis=1) if items else pd.Series(False, index=calls.index)
    chosen = calls[answered & calls["outcome"].isin(INTERVIEWED)]
    if "attempt_no" in chosen.columns:
        chosen = chosen.sort_values("attempt_no", kind="stable")
    return chosen.drop_duplicates(["department_id", "case_id"], keep="last").sort_index()


def recordable_dispositions(observed, declared=()) -> frozenset:
    """The dispositions a call log can record: those its results recorded, and those the project declared.

    ``observed``: final per-call dispositions that occur in the log (after
    :func:`resolve_connected`); ``declared``: the targets of the project's
    recodes of its results (``connected`` counts as both ``complete`` and
    ``other``).
    """
    out = set(observed)
    for target in declared:
        out |= {"complete", "other"} if target == CONNECTED else {target}
    return frozenset(out & set(DISPOSITIONS))
