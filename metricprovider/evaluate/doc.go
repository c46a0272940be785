// Package evaluate is the one owner of Argo's successCondition/failureCondition evaluation,
// shared by every nerve metric provider (prometheus, web): the expr-lang environment (result,
// asInt, asFloat, isNaN, isInf, isNil, default) with Argo's semantics, Argo's truth table
// (neither set → Successful; only successCondition → not success is Failed; only
// failureCondition → not failure is Successful; failure wins; neither true → Inconclusive) and
// Argo's evaluation-error wording ("could not evaluate successCondition ...", with "metric
// result is nil or empty" for an empty result).
package evaluate
