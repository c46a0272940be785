package evaluate

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Outcome is the result of evaluating a metric's conditions against one value.
type Outcome struct {
	// Phase is Successful, Failed, Inconclusive or Error.
	Phase v1alpha1.AnalysisPhase
	// Success and Failure are the conditions' values (false when unset or not evaluated).
	Success, Failure bool
	// Err is the evaluation error of an Error outcome.
	Err error
}

// Evaluate applies Argo's truth table to result (a float64, a []float64 or anything else the expr
// environment accepts): neither condition set → Successful; only success set → not-success is
// Failed; only failure set → not-failure is Successful; failure true → Failed; neither true →
// Inconclusive. Evaluation errors give an Error outcome with Argo's message.
func Evaluate(result any, successCondition, failureCondition string) Outcome {
	var out Outcome
	var err error
	if successCondition != "" {
		if out.Success, err = EvalCondition(result, successCondition); err != nil {
			return Outcome{Phase: v1alpha1.AnalysisPhaseError, Err: evalError(err, "successCondition", successCondition, result)}
		}
	}
	if failureCondition != "" {
		if out.Failure, err = EvalCondition(result, failureCondition); err != nil {
			return Outcome{Phase: v1alpha1.AnalysisPhaseError, Success: out.Success, Err: evalError(err, "failureCondition", failureCondition, result)}
		}
	}
	out.Phase = truthTable(successCondition != "", failureCondition != "", out.Success, out.Failure)
	return out
}

func truthTable(hasSuccess, hasFailure, success, failure bool) v1alpha1.AnalysisPhase {
	switch {
	case !hasSuccess && !hasFailure:
		return v1alpha1.AnalysisPhaseSuccessful
	case hasSuccess && !hasFailure:
		failure = !success
	case !hasSuccess && hasFailure:
		success = !failure
	}
	switch {
	case failure:
		return v1alpha1.AnalysisPhaseFailed
	case success:
		return v1alpha1.AnalysisPhaseSuccessful
	}
	return v1alpha1.AnalysisPhaseInconclusive
}

// evalError words an evaluation error as Argo does (utils/evaluate formatEvalError).
func evalError(err error, kind, condition string, result any) error {
	if nilOrEmpty(result) {
		return fmt.Errorf("could not evaluate %s %q: metric result is nil or empty: no data returned from the metric provider", kind, condition)
	}
	return fmt.Errorf("could not evaluate %s %q: %w", kind, condition, err)
}

func nilOrEmpty(v any) bool {
	if isNil(v) {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return rv.Len() == 0
	}
	return false
}

// EvalCondition evaluates one boolean expr condition with Argo's environment.
func EvalCondition(result any, condition string) (bool, error) {
	env := conditionEnv(result)
	program, err := expr.Compile(condition, expr.Env(env))
	if err != nil {
		return false, unwrapFileError(err)
	}
	output, err := expr.Run(program, env)
	if err != nil {
		return false, unwrapFileError(err)
	}
	b, ok := output.(bool)
	if !ok {
		return false, fmt.Errorf("expected bool, but got %T", output)
	}
	return b, nil
}

// conditionEnv is Argo's expr environment. isNil and default ignore their argument and look at
// the measured value, exactly as Argo's do.
func conditionEnv(result any) map[string]any {
	return map[string]any{
		"result":  valueFromPointer(result),
		"asInt":   asInt,
		"asFloat": asFloat,
		"isNaN":   math.IsNaN,
		"isInf":   isInf,
		"isNil":   func(any) bool { return isNil(result) },
		"default": func(_ any, def any) any {
			if isNil(result) {
				return def
			}
			return valueFromPointer(result)
		},
	}
}

// EvalTime evaluates a rangeQuery start/end expression (Argo's EvalTime environment).
func EvalTime(expression string) (time.Time, error) {
	env := map[string]any{"isNaN": math.IsNaN, "isInf": isInf}
	program, err := expr.Compile(expression, expr.Env(env))
	if err != nil {
		return time.Time{}, unwrapFileError(err)
	}
	output, err := expr.Run(program, env)
	if err != nil {
		return time.Time{}, unwrapFileError(err)
	}
	t, ok := output.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("expected time.Time, but got %T", output)
	}
	return t, nil
}

// unwrapFileError drops expr's source snippet, keeping the message (as Argo does).
func unwrapFileError(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return errors.New(fe.Message)
	}
	return err
}

func isInf(f float64) bool { return math.IsInf(f, 0) }

// asInt converts numbers and numeric strings to int64. Unlike Argo's it returns an error instead
// of panicking; expr reports either the same way, with the same text.
func asInt(in any) (int64, error) {
	if s, ok := in.(string); ok {
		return strconv.ParseInt(s, 10, 64)
	}
	if i, ok := toInt(in); ok {
		return i, nil
	}
	if f, ok := toFloat(in); ok {
		return int64(f), nil
	}
	return 0, fmt.Errorf("asInt() not supported on %v %v", reflect.TypeOf(in), in)
}

// asFloat converts numbers and numeric strings to float64.
func asFloat(in any) (float64, error) {
	if s, ok := in.(string); ok {
		return strconv.ParseFloat(s, 64)
	}
	if f, ok := toFloat(in); ok {
		return f, nil
	}
	return 0, fmt.Errorf("asFloat() not supported on %v %v", reflect.TypeOf(in), in)
}

// toInt converts integer kinds exactly (floats are truncated by the caller).
func toInt(in any) (int64, bool) {
	rv := reflect.ValueOf(in)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), true //nolint:gosec // wraps as Argo's int64(uint64) does
	}
	return 0, false
}

func toFloat(in any) (float64, bool) {
	if in == nil {
		return 0, false
	}
	rv := reflect.ValueOf(in)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	}
	return 0, false
}

func isNil(in any) bool {
	if in == nil {
		return true
	}
	switch reflect.TypeOf(in).Kind() {
	case reflect.Ptr, reflect.Map, reflect.Chan, reflect.Slice:
		return reflect.ValueOf(in).IsNil()
	}
	return false
}

// valueFromPointer dereferences a non-nil pointer; nil stays nil.
func valueFromPointer(in any) any {
	if isNil(in) {
		return nil
	}
	if reflect.TypeOf(in).Kind() != reflect.Ptr {
		return in
	}
	return reflect.ValueOf(in).Elem().Interface()
}
