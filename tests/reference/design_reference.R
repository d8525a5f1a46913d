# Golden values for tests/test_design_multistage_calibration.py, from R survey 4.1.1 (R 4.2.2).
# Regenerate: Rscript tests/reference/design_reference.R  (prints every value with 15 digits;
# the tests hold them beside these calls).  Also writes survey/apiclus2.csv, the two-stage sample
# shipped with R survey, if it is absent.
suppressMessages(library(survey))
options(digits = 15)
data(api)
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))
out <- file.path(here, "survey", "apiclus2.csv")
if (!file.exists(out)) write.csv(apiclus2, out, row.names = FALSE)
show <- function(label, x) {
  cat(label, "\n")
  if (inherits(x, c("svystat", "svrepstat", "svyby"))) {
    print(cbind(estimate = coef(x), se = as.vector(SE(x))), digits = 15)
  } else {
    print(x, digits = 15)
  }
}

## two-stage cluster sample: districts, then schools, fpc at each stage
dclus2 <- svydesign(ids = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
show("svymean(~api00, dclus2)", svymean(~api00, dclus2))
show("svytotal(~enroll, dclus2, na.rm=TRUE)", svytotal(~enroll, dclus2, na.rm = TRUE))
show("svyby(~api00, ~stype, dclus2, svymean)", svyby(~api00, ~stype, dclus2, svymean))
show("weights(dclus2)[1:3]", weights(dclus2)[1:3])
show("degf(dclus2)", degf(dclus2))
# fpc as sampling fractions at both stages gives the same design
apiclus2$f1 <- 40 / apiclus2$fpc1
apiclus2$f2 <- ave(apiclus2$snum, apiclus2$dnum, FUN = length) / apiclus2$fpc2
dfrac <- svydesign(ids = ~dnum + snum, fpc = ~f1 + f2, data = apiclus2)
show("svymean(~api00, dfrac)", svymean(~api00, dfrac))
# with the weights given, second stage ignored without fpc
dclus2w <- svydesign(ids = ~dnum + snum, weights = ~pw, data = apiclus2)
show("svymean(~api00, svydesign(ids=~dnum+snum, weights=~pw))", svymean(~api00, dclus2w))

## linear (GREG) calibration on dclus1
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
pop <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
g1 <- calibrate(dclus1, ~stype + api99, pop, calfun = "linear")
show("svymean(~api00, calibrate(dclus1, ~stype+api99, pop, calfun='linear'))", svymean(~api00, g1))
show("svytotal(~enroll, g1)", svytotal(~enroll, g1))
show("svyby(~api00, ~stype, g1, svymean)", svyby(~api00, ~stype, g1, svymean))
show("range(weights(g1))", range(weights(g1)))
g2 <- calibrate(dclus1, ~api99, c(`(Intercept)` = 6194, api99 = 3914069), calfun = "linear")
show("svymean(~api00, calibrate(dclus1, ~api99, c(6194, 3914069), calfun='linear'))", svymean(~api00, g2))
g3 <- calibrate(dclus1, ~stype + sch.wide + api99,
                c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, sch.wideYes = 5122, api99 = 3914069),
                calfun = "linear")
show("svymean(~api00, calibrate(dclus1, ~stype+sch.wide+api99, ..., calfun='linear'))", svymean(~api00, g3))
# linear calibration of the two-stage design
g4 <- calibrate(dclus2, ~stype, c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018), calfun = "linear")
show("svymean(~api00, calibrate(dclus2, ~stype, pop, calfun='linear'))", svymean(~api00, g4))

## re-calibrated replicate weights (JK1 of dclus1)
rj <- as.svrepdesign(dclus1, type = "JK1")
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.sch <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
show("svymean(~api00, postStratify(rj, ~stype, pop.types))", svymean(~api00, postStratify(rj, ~stype, pop.types)))
show("svymean(~api00, rake(rj, list(~stype, ~sch.wide), list(pop.types, pop.sch)))",
     svymean(~api00, rake(rj, list(~stype, ~sch.wide), list(pop.types, pop.sch))))
show("the same rake, control=list(epsilon=1e-10, maxit=100)",
     svymean(~api00, rake(rj, list(~stype, ~sch.wide), list(pop.types, pop.sch),
                          control = list(epsilon = 1e-10, maxit = 100))))
show("svymean(~api00, calibrate(rj, ~stype+api99, pop, calfun='linear'))",
     svymean(~api00, calibrate(rj, ~stype + api99, pop, calfun = "linear")))
