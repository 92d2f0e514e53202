//! An object of the CloudTrail view seen as a document of its own.

use super::view::CloudTrailView;
use crate::engine::{Document, Value};

/// An object of the view seen as a document of its own (KQL nested queries on ECS objects):
/// paths are looked up below `prefix`.
pub(crate) struct Prefixed<'v, 'a> {
    pub(crate) view: &'v CloudTrailView<'a>,
    pub(crate) prefix: &'v str,
}

impl Document for Prefixed<'_, '_> {
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        self.view
            .any_value(&format!("{}.{path}", self.prefix), visit)
    }

    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool {
        let prefix = self.prefix;
        self.view.any_leaf(&mut |p, v| {
            p.strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|rel| visit(rel, v))
        })
    }

    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool {
        self.view
            .any_object(&format!("{}.{path}", self.prefix), visit)
    }
}
