"""Administrative censuses: monthly case counts and the list of matters, true and as reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from . import links
from .config import SimulationConfig
from .departments import Register

STATUTORY_DAYS = np.array([5, 10, 15, 20, 30, 45, 60])
STATUTORY_P = np.array([0.10, 0.20, 0.20, 0.20, 0.15, 0.08, 0.07])
SEASON = np.array([0.85, 0.70, 1.05, 1.05, 1.05, 1.00, 1.00, 0.95, 1.05, 0.90, 1.15, 1.25])
MONTHLY_SD = 0.15      # month-to-month jitter of the rates, logit scale
MATTER_SD = 0.08       # spread of compression and document reduction across matters

# Matter names by comparison category; numbered variants extend the list where a department has more matters.
MATTERS = {
    "A": ("企业投资项目核准", "企业投资项目备案", "食品经营许可", "个体工商户登记", "企业设立登记", "企业变更登记",
          "药品经营许可", "特种设备使用登记", "对外贸易经营者备案", "科技型中小企业评价", "发票领用", "纳税申报"),
    "B": ("建设用地规划许可", "建设工程规划许可", "不动产首次登记", "不动产转移登记", "抵押权登记", "施工许可",
          "竣工验收备案", "公积金提取", "公积金贷款", "占道施工许可", "取水许可", "环境影响评价审批"),
    "C": ("社会保障卡申领", "养老保险待遇核定", "失业保险金申领", "医保关系转移", "异地就医备案", "户口迁移",
          "居民身份证办理", "机动车登记", "婚姻登记", "社会组织登记", "医疗机构执业登记", "教师资格认定"),
    "D": ("农药经营许可", "安全生产许可", "旅行社设立许可", "林木采伐许可", "消防安全检查", "防雷装置设计审核",
          "烟草专卖零售许可", "统计调查项目审批", "兽药经营许可", "危险化学品经营许可", "演出场所备案", "种子生产经营许可"),
    "E": ("低压用电报装", "高压用电报装", "用水报装", "燃气报装", "过户办理", "表计校验",
          "临时用电", "增容申请", "销户办理", "故障报修", "账单查询", "停复供申请"),
}


def admin_census(config: SimulationConfig, register: Register, year: int, ids: list[str],
                 eta: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[dict, dict]:
    """The year's administrative tables, without and with the claims inflation.

    Returns
    -------
    (true, reported) : two dicts with ``admin_monthly`` and ``admin_matters``
        (canonical columns).  ``reported`` differs from ``true`` only for
        padding departments: a share ``min(0.9, claims_inflation * phi)`` of
        late, offline and outside-window cases is reported as on time, online
        and at the window, and promised days and current documents are cut by
        half that share.
    """
    p = register.params.loc[ids]
    infl = np.minimum(0.9, config.claims_inflation * p["phi"].to_numpy())
    monthly, monthly_rep = _monthly(p, year, eta, infl, rng)
    matters, matters_rep = _matters(config, p, eta, infl, rng)
    return ({"admin_monthly": monthly, "admin_matters": matters},
            {"admin_monthly": monthly_rep, "admin_matters": matters_rep})


def _monthly(p: pd.DataFrame, year: int, eta, infl, rng):
    n = len(p)
    dept = np.repeat(np.arange(n), 12)
    month = np.tile(np.arange(12), n)
    expected = p["volume"].to_numpy()[dept] / 12.0 * SEASON[month] / SEASON.mean()
    received = rng.poisson(expected)
    closed = rng.binomial(received, 0.97)

    def jitter(field):
        base = logit(links.share(field, eta[field]))[dept]
        return expit(base + rng.normal(0.0, MONTHLY_SD, len(dept)))

    on_time = rng.binomial(closed, jitter("on_time"))
    online = rng.binomial(received, jitter("online"))
    window = rng.binomial(received, jitter("one_window"))
    ids = p.index.to_numpy()[dept]
    months = np.array([f"{year}-{m + 1:02d}" for m in range(12)])[month]
    true = pd.DataFrame({"department_id": ids, "month": months, "cases_received": received.astype(float),
                         "cases_closed": closed.astype(float), "closed_on_time": on_time.astype(float),
                         "cases_online": online.astype(float), "cases_one_window": window.astype(float)})
    rep = true.copy()
    share = infl[dept]
    rep["closed_on_time"] = on_time + rng.binomial(closed - on_time, share)
    rep["cases_online"] = online + rng.binomial(received - online, share)
    rep["cases_one_window"] = window + rng.binomial(received - window, share)
    for c in ("closed_on_time", "cases_online", "cases_one_window"):
        rep[c] = rep[c].astype(float)
    return true, rep


def _matters(config: SimulationConfig, p: pd.DataFrame, eta, infl, rng):
    counts = np.array([config.tier_value("matters_n", t) for t in p["tier"]])
    dept = np.repeat(np.arange(len(p)), counts)
    seq = np.arange(len(dept)) - np.repeat(np.cumsum(counts) - counts, counts)
    share = rng.gamma(0.8, 1.0, len(dept))
    total = np.bincount(dept, weights=share)
    volume = np.maximum(1.0, np.round(p["volume"].to_numpy()[dept] * share / total[dept]))
    statutory = rng.choice(STATUTORY_DAYS, len(dept), p=STATUTORY_P).astype(float)
    comp = np.clip(links.bounded("compression", eta["compression"])[dept]
                   + rng.normal(0.0, MATTER_SD, len(dept)), 0.0, 0.95)
    promised = np.maximum(1.0, np.round(statutory * (1 - comp)))
    baseline = rng.integers(3, 16, len(dept)).astype(float)
    red = np.clip(links.bounded("docs_reduction", eta["docs_reduction"])[dept]
                  + rng.normal(0.0, MATTER_SD, len(dept)), 0.0, 0.9)
    current = np.maximum(1.0, np.round(baseline * (1 - red)))
    ids = p.index.to_numpy()
    cats = p["category"].to_numpy()[dept]
    names = []
    for c, k in zip(cats, seq):
        vocab = MATTERS.get(c, MATTERS["A"])
        round_, pos = divmod(int(k), len(vocab))
        names.append(vocab[pos] + (f"（{round_ + 1}类）" if round_ else ""))
    true = pd.DataFrame({
        "department_id": ids[dept], "matter_id": [f"{d}-SX{k + 1:03d}" for d, k in zip(ids[dept], seq)],
        "matter_name": names, "annual_volume": volume, "statutory_days": statutory, "promised_days": promised,
        "docs_baseline": baseline, "docs_current": current})
    rep = true.copy()
    cut = 1 - infl[dept] / 2
    rep["promised_days"] = np.maximum(1.0, np.round(promised * cut))
    rep["docs_current"] = np.maximum(1.0, np.round(current * cut))
    return true, rep
