//! The one-method-family lookup trait through which the engine sees events.

/// A value found at a field path. Borrowed from the document (computed values are cached by the
/// document so they can be borrowed too).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// A JSON number, with its textual form as it appears in the source.
    Number(&'a serde_json::Number),
    Str(&'a str),
    /// The path resolves to an object (only `Exists` looks at it).
    Object,
}

/// Read access to an event by dotted ECS field path.
pub trait Document {
    /// Calls `visit` for each value at `path`, lists flattened (a list of objects is walked element
    /// by element). Returns true as soon as `visit` returns true; false when no value satisfied it
    /// (including when the field is missing).
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool;

    /// Calls `visit` for each leaf value of the whole document with its dotted path (for KQL free
    /// text). Same early-return contract as [`Document::any_value`].
    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool;

    /// Calls `visit` for each object at `path` (lists flattened), seen as a document of its own
    /// (for KQL nested queries). Same early-return contract.
    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool;
}

/// A [`Document`] over a nested JSON value (ECS documents as Elasticsearch stores them).
#[derive(Debug, Clone, Copy)]
pub struct JsonDocument<'a>(pub &'a serde_json::Value);
