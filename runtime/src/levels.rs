//! The crate's own hierarchy: [`MetricsRoot`] → [`Namespace`] (nestable) → [`Component`] →
//! [`Endpoint`].
//!
//! Each level has its own [`MetricsRegistry`], linked under its parent's, so the combined scrape of
//! a level includes all its descendants and none of its ancestors or siblings. Asking a level for a
//! child by a name it already has returns that same child (same registry).
//!
//! Labels follow the level's kind, not its depth: under nested namespaces `a` → `b` the namespace
//! label is the whole path (`a.b`, sanitized to `a_b`), and component and endpoint labels stay
//! their own names.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::hierarchy::MetricsHierarchy;
use crate::names::sanitize_label_name;
use crate::{Error, MetricsRegistry, labels};

type ChildKey = (&'static str, String);

/// A level's name, registry and the children asked of it so far.
struct Node {
    name: String,
    registry: MetricsRegistry,
    children: Mutex<HashMap<ChildKey, Arc<Node>>>,
}

impl Node {
    fn new(name: &str) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            registry: MetricsRegistry::new(),
            children: Mutex::default(),
        })
    }

    /// The child of `kind` named `name`, created and linked on first use.
    fn child(&self, kind: &'static str, name: &str) -> Result<Arc<Node>, Error> {
        sanitize_label_name(name).map_err(|reason| Error::InvalidLevelName {
            level: kind,
            name: name.to_owned(),
            reason,
        })?;
        let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        let node = children
            .entry((kind, name.to_owned()))
            .or_insert_with(|| {
                let node = Node::new(name);
                node.registry.set_label(format!("{kind} `{name}`"));
                self.registry.add_child_registry(&node.registry);
                node
            })
            .clone();
        Ok(node)
    }
}

/// The root of a worker's hierarchy (the distributed runtime in Dynamo's terms). It gives no label
/// itself; its connection id, if any, becomes the `worker_id` label of every metric below it.
#[derive(Clone)]
pub struct MetricsRoot {
    node: Arc<Node>,
    connection_id: Option<u64>,
}

impl MetricsRoot {
    /// A root without a connection id: metrics get no `worker_id` label.
    pub fn new() -> Self {
        let node = Node::new("");
        node.registry.set_label("the root".to_owned());
        Self {
            node,
            connection_id: None,
        }
    }

    /// A root whose metrics carry `worker_id` = `connection_id` in lowercase hex.
    pub fn with_connection_id(connection_id: u64) -> Self {
        Self {
            connection_id: Some(connection_id),
            ..Self::new()
        }
    }

    /// The namespace `name` directly under the root.
    ///
    /// # Errors
    /// [`Error::InvalidLevelName`] if `name` has no character valid in a label value.
    pub fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        Ok(Namespace {
            root: self.clone(),
            outer: None,
            path: name.to_owned(),
            node: self.node.child("namespace", name)?,
        })
    }

    /// This level's registry.
    pub fn registry(&self) -> &MetricsRegistry {
        &self.node.registry
    }
}

impl Default for MetricsRoot {
    fn default() -> Self {
        Self::new()
    }
}

/// A namespace, directly under the root or nested in another namespace.
#[derive(Clone)]
pub struct Namespace {
    root: MetricsRoot,
    outer: Option<Arc<Namespace>>,
    path: String,
    node: Arc<Node>,
}

impl Namespace {
    /// This namespace's own name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The names of the namespaces from the root down to this one, joined with `.`: the raw value
    /// of the `dynamo_namespace` label.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The namespace `name` nested in this one.
    ///
    /// # Errors
    /// [`Error::InvalidLevelName`] if `name` has no character valid in a label value.
    pub fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        Ok(Namespace {
            root: self.root.clone(),
            path: format!("{}.{name}", self.path),
            node: self.node.child("namespace", name)?,
            outer: Some(Arc::new(self.clone())),
        })
    }

    /// The component `name` in this namespace.
    ///
    /// # Errors
    /// [`Error::InvalidLevelName`] if `name` has no character valid in a label value.
    pub fn component(&self, name: &str) -> Result<Component, Error> {
        Ok(Component {
            node: self.node.child("component", name)?,
            namespace: self.clone(),
        })
    }

    /// This level's registry.
    pub fn registry(&self) -> &MetricsRegistry {
        &self.node.registry
    }

    fn push_chain<'a>(&'a self, chain: &mut Vec<&'a dyn MetricsHierarchy>) {
        match &self.outer {
            Some(outer) => outer.push_chain(chain),
            None => chain.push(&self.root),
        }
        chain.push(self);
    }
}

/// A component (a service such as `backend`) in a namespace.
#[derive(Clone)]
pub struct Component {
    namespace: Namespace,
    node: Arc<Node>,
}

impl Component {
    /// This component's name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The namespace this component is in.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The endpoint `name` of this component.
    ///
    /// # Errors
    /// [`Error::InvalidLevelName`] if `name` has no character valid in a label value.
    pub fn endpoint(&self, name: &str) -> Result<Endpoint, Error> {
        Ok(Endpoint {
            node: self.node.child("endpoint", name)?,
            component: self.clone(),
        })
    }

    /// This level's registry.
    pub fn registry(&self) -> &MetricsRegistry {
        &self.node.registry
    }
}

/// An endpoint (such as `generate`) of a component: where an engine worker usually lives.
#[derive(Clone)]
pub struct Endpoint {
    component: Component,
    node: Arc<Node>,
}

impl Endpoint {
    /// This endpoint's name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The component this endpoint belongs to.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// This level's registry.
    pub fn registry(&self) -> &MetricsRegistry {
        &self.node.registry
    }
}

impl MetricsHierarchy for MetricsRoot {
    fn basename(&self) -> String {
        String::new()
    }
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
        Vec::new()
    }
    fn connection_id(&self) -> Option<u64> {
        self.connection_id
    }
    fn get_metrics_registry(&self) -> &MetricsRegistry {
        self.registry()
    }
    fn hierarchy_labels(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

impl MetricsHierarchy for Namespace {
    fn basename(&self) -> String {
        self.name().to_owned()
    }
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
        let mut chain = Vec::new();
        self.push_chain(&mut chain);
        chain.pop();
        chain
    }
    fn connection_id(&self) -> Option<u64> {
        self.root.connection_id
    }
    fn get_metrics_registry(&self) -> &MetricsRegistry {
        self.registry()
    }
    fn hierarchy_labels(&self) -> Vec<(&'static str, String)> {
        vec![(labels::NAMESPACE, self.path.clone())]
    }
}

impl MetricsHierarchy for Component {
    fn basename(&self) -> String {
        self.name().to_owned()
    }
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
        let mut chain = Vec::new();
        self.namespace.push_chain(&mut chain);
        chain
    }
    fn connection_id(&self) -> Option<u64> {
        self.namespace.connection_id()
    }
    fn get_metrics_registry(&self) -> &MetricsRegistry {
        self.registry()
    }
    fn hierarchy_labels(&self) -> Vec<(&'static str, String)> {
        let mut out = self.namespace.hierarchy_labels();
        out.push((labels::COMPONENT, self.name().to_owned()));
        out
    }
}

impl MetricsHierarchy for Endpoint {
    fn basename(&self) -> String {
        self.name().to_owned()
    }
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
        let mut chain = self.component.parent_hierarchies();
        chain.push(&self.component);
        chain
    }
    fn connection_id(&self) -> Option<u64> {
        self.component.connection_id()
    }
    fn get_metrics_registry(&self) -> &MetricsRegistry {
        self.registry()
    }
    fn hierarchy_labels(&self) -> Vec<(&'static str, String)> {
        let mut out = self.component.hierarchy_labels();
        out.push((labels::ENDPOINT, self.name().to_owned()));
        out
    }
}

macro_rules! debug_level {
    ($($ty:ident),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("labels", &self.hierarchy_labels())
                    .field("connection_id", &self.connection_id())
                    .finish()
            }
        }
    )*};
}

debug_level!(MetricsRoot, Namespace, Component, Endpoint);
