package wire

import "errors"

// ErrorBody is the JSON body of an error answer.
type ErrorBody struct {
	Error string `json:"error"`
	// Field is the request field a validation error is about ("folder",
	// "stack", "domain"…), or "".
	Field string `json:"field,omitempty"`
}

// EngineError is an error the engine reported; its text is meant for the
// user.
type EngineError struct {
	Status int
	Msg    string
	Field  string // see ErrorBody.Field
}

func (e *EngineError) Error() string { return e.Msg }

// ErrorField returns the request field the error is about, or "".
func (e *EngineError) ErrorField() string { return e.Field }

// FieldOf returns the request field an error is about ("folder", "name",
// "stack"…), or "" when it is about none: the window uses it to send the
// user back to the step where that field is edited.
func FieldOf(err error) string {
	var f interface{ ErrorField() string }
	if errors.As(err, &f) {
		return f.ErrorField()
	}
	return ""
}
