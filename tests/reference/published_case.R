# Golden values for tests/test_published_uncertainty.py: what R survey 4.1.1 (R 4.2.2) gives on the
# stratified cluster case of published_case.py (departments = strata, intercept days = clusters,
# unequal weights, N/A code 9).  Regenerate:
#   python tests/reference/published_case.py /tmp/published_case
#   Rscript tests/reference/published_case.R /tmp/published_case tests/reference/published_case_r.csv
# The output is long: run (plain | raked), department_id, level (indicator, top2, dimension, index),
# id, quantity (estimate, se, ci_low, ci_high, df), value; scores on minping's 0-100 scale.
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
folder <- if (length(args) >= 1) args[1] else "/tmp/published_case"
out_file <- if (length(args) >= 2) args[2] else "published_case_r.csv"
level <- 0.95
d <- read.csv(file.path(folder, "survey.csv"), stringsAsFactors = FALSE)
margins <- read.csv(file.path(folder, "margins.csv"), stringsAsFactors = FALSE)

likert <- function(code) ifelse(code %in% 1:5, (code - 1) * 25, NA)   # the "linear" preset
share <- function(code) ifelse(code %in% 1:5, as.numeric(code %in% c(4, 5)), NA)
d$s_D1.1 <- likert(d$q_overall)
d$s_D1.2 <- likert(d$q_easier)
d$s_D1.3 <- share(d$q_speed)         # share, score = 100 x share
d$s_D2.1 <- likert(d$q_ease)
d$s_D2.2 <- share(d$q_fair)          # share, score = 100 (p - 0.3) / 0.7 (distance to frontier)
ids <- c("D1.1", "D1.2", "D1.3", "D2.1", "D2.2")
slope <- c(1, 1, 100, 1, 100 / 0.7)
offset <- c(0, 0, 0, 0, -100 * 0.3 / 0.7)
is_share <- c(FALSE, FALSE, TRUE, FALSE, TRUE)
items <- c(D1.1 = "q_overall", D1.2 = "q_easier", D1.3 = "q_speed", D2.1 = "q_ease", D2.2 = "q_fair")
for (i in seq_along(ids)) {
  v <- d[[paste0("s_", ids[i])]]
  d[[paste0("y", i)]] <- ifelse(is.na(v), 0, v)          # ratio numerators: the value, 0 when N/A
  d[[paste0("a", i)]] <- as.numeric(!is.na(v))            # denominators: answered
}
for (it in c("D1.1", "D1.2", "D2.1")) {
  code <- d[[items[[it]]]]
  d[[paste0("top_", it)]] <- ifelse(code %in% 1:5, as.numeric(code %in% c(4, 5)), NA)
  d[[paste0("bot_", it)]] <- ifelse(code %in% 1:5, as.numeric(code %in% c(1, 2)), NA)
}
# effective weights: dimension weight x indicator weight (all indicators present in every department)
w_dim <- c(0.5, 0.3, 0.2, 0.6, 0.4)
dim_of <- c("D1", "D1", "D1", "D2", "D2")
w_index <- w_dim * ifelse(dim_of == "D1", 0.6, 0.4)

rows <- list()
add <- function(run, dept, lev, id, est, se, lo, hi, df) {
  rows[[length(rows) + 1]] <<- data.frame(run = run, department_id = dept, level = lev, id = id,
                                          quantity = c("estimate", "se", "ci_low", "ci_high", "df"),
                                          value = c(est, se, lo, hi, df))
}

evaluate <- function(run, des) {
  for (dept in sort(unique(d$department_id))) {
    sub <- subset(des, department_id == dept)
    for (i in seq_along(ids)) {
      f <- as.formula(paste0("~s_", ids[i]))
      ok <- sub[!is.na(sub$variables[[paste0("s_", ids[i])]]), ]
      m <- svymean(f, sub, na.rm = TRUE)                   # the design-based mean, N/A excluded
      df <- degf(ok)                                       # PSUs minus strata among the answered rows
      est <- coef(m)[[1]]
      se <- SE(m)[[1]]
      if (is_share[i]) {
        ci <- svyciprop(as.formula(paste0("~I(s_", ids[i], " == 1)")), sub, method = "logit", level = level,
                        df = df, na.rm = TRUE)
        lo <- attr(ci, "ci")[[1]]
        hi <- attr(ci, "ci")[[2]]
      } else {
        q <- qt(0.5 + level / 2, df)
        lo <- est - q * se
        hi <- est + q * se
      }
      add(run, dept, "indicator", ids[i], slope[i] * est + offset[i], slope[i] * se,
          min(100, max(0, slope[i] * lo + offset[i])), min(100, max(0, slope[i] * hi + offset[i])), df)
    }
    for (it in c("D1.1", "D1.2", "D2.1")) {
      for (box in c("top", "bot")) {
        v <- paste0(box, "_", it)
        ok <- sub[!is.na(sub$variables[[v]]), ]
        m <- svymean(as.formula(paste0("~", v)), sub, na.rm = TRUE)
        ci <- svyciprop(as.formula(paste0("~I(", v, " == 1)")), sub, method = "logit", level = level,
                        df = degf(ok), na.rm = TRUE)
        add(run, dept, ifelse(box == "top", "top2", "bottom2"), it, coef(m)[[1]], SE(m)[[1]],
            attr(ci, "ci")[[1]], attr(ci, "ci")[[2]], degf(ok))
      }
    }
    # dimensions and the index: svycontrast of the indicator means (ratios y_i / a_i, so that each
    # indicator excludes its own N/A answers) with the effective weights times the score slopes
    r <- svyratio(~y1 + y2 + y3 + y4 + y5, ~a1 + a2 + a3 + a4 + a5, sub, covmat = TRUE)
    nm <- paste0("y", 1:5, "/a", 1:5)
    contrast <- function(coefs) {
      v <- setNames(rep(0, length(coef(r))), names(coef(r)))
      v[nm] <- coefs
      svycontrast(r, v)
    }
    df <- degf(sub)
    q <- qt(0.5 + level / 2, df)
    for (k in c("D1", "D2")) {
      sel <- dim_of == k
      cf <- ifelse(sel, w_dim * slope, 0)
      cc <- contrast(cf)
      est <- coef(cc)[[1]] + sum(ifelse(sel, w_dim * offset, 0))
      se <- SE(cc)[[1]]
      add(run, dept, "dimension", k, est, se, est - q * se, est + q * se, df)
    }
    cc <- contrast(w_index * slope)
    est <- coef(cc)[[1]] + sum(w_index * offset)
    se <- SE(cc)[[1]]
    add(run, dept, "index", "index", est, se, est - q * se, est + q * se, df)
  }
}

des <- svydesign(ids = ~cluster, strata = ~department_id, weights = ~weight, data = d, nest = TRUE)
evaluate("plain", des)

# the same survey raked, department by department, to respondent type and mode (margins.csv): one
# rake on the department x type and department x mode margins, run to convergence
pop_type <- margins[margins$variable == "respondent_type", c("department_id", "level", "total")]
names(pop_type) <- c("department_id", "respondent_type", "Freq")
pop_mode <- margins[margins$variable == "mode", c("department_id", "level", "total")]
names(pop_mode) <- c("department_id", "mode", "Freq")
raked <- rake(des, list(~department_id + respondent_type, ~department_id + mode), list(pop_type, pop_mode),
              control = list(epsilon = 1e-10, maxit = 100))
evaluate("raked", raked)

out <- do.call(rbind, rows)
write.csv(out, out_file, row.names = FALSE)
cat("wrote", nrow(out), "values to", out_file, "\n")
