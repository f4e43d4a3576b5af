//! The crate's own levels, [`MetricsRoot`] to [`Endpoint`]; their rules, lifetime included, are on
//! [`MetricsRoot`].

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::error::LevelErrorKind;
use crate::hierarchy::MetricsHierarchy;
use crate::hierarchy::registry::lock;
use crate::names::sanitize_label_name;
use crate::{Error, MetricsRegistry, labels};

type ChildKey = (&'static str, String);

/// A level's name, registry, parent and the children asked of it and still attached.
///
/// Ownership runs down the tree: a parent's `children` holds its attached children, handles
/// ([`NodeRef`]) hold their own node, and a child points back at its parent weakly. So nothing
/// forms a cycle, and a detached level is freed as soon as its last handle goes.
pub(crate) struct Node {
    name: String,
    kind: &'static str,
    registry: MetricsRegistry,
    parent: Option<Weak<Node>>,
    /// The handles ([`NodeRef`]s) alive on this node: level handles and [`LevelGuard`]s.
    handles: AtomicUsize,
    children: Mutex<HashMap<ChildKey, Arc<Node>>>,
}

impl Node {
    fn root() -> Arc<Self> {
        Self::new("", "root", None)
    }

    fn new(name: &str, kind: &'static str, parent: Option<Weak<Node>>) -> Arc<Self> {
        Arc::new_cyclic(|me| {
            let registry = MetricsRegistry::new();
            registry.set_level(me.clone());
            Self {
                name: name.to_owned(),
                kind,
                registry,
                parent,
                handles: AtomicUsize::new(0),
                children: Mutex::default(),
            }
        })
    }

    /// How messages name this level (``component `backend` ``).
    fn describe(&self) -> String {
        match self.parent {
            None => "the root".to_owned(),
            Some(_) => format!("{} `{}`", self.kind, self.name),
        }
    }

    /// The child of `kind` named `name`, created and linked when it is not attached, with a handle
    /// on it.
    fn child(self: &Arc<Self>, kind: &'static str, name: &str) -> Result<NodeRef, Error> {
        sanitize_label_name(name).map_err(|reason| {
            Error::level_error(
                format!("{kind} `{name}`"),
                LevelErrorKind::InvalidName { reason },
            )
        })?;
        let mut children = lock(&self.children);
        // Under the lock: a removal of this level takes the same lock before it marks it.
        if self.registry.is_removed() {
            return Err(Error::level_error(self.describe(), LevelErrorKind::Removed));
        }
        let node = children
            .entry((kind, name.to_owned()))
            .or_insert_with(|| {
                let node = Node::new(name, kind, Some(Arc::downgrade(self)));
                node.registry.set_label(node.describe());
                self.registry.add_child_registry(&node.registry);
                node
            })
            .clone();
        // Counted under the parent's lock, which a detach takes before it reads the count.
        Ok(NodeRef::counted(node))
    }

    /// Whether the level must stay attached though no handle is left: a child is still attached,
    /// or its registry holds something that may still be written (see
    /// [`MetricsRegistry::holds_writable`]).
    fn pinned(&self) -> bool {
        !lock(&self.children).is_empty() || self.registry.holds_writable()
    }

    /// Detaches this level from its parent if nothing keeps it: no handle, no attached child,
    /// nothing writable in its registry. Then checks the parent, which this level may have been
    /// keeping.
    fn detach_if_unused(&self) {
        let Some(parent) = self.parent.as_ref().and_then(Weak::upgrade) else {
            return;
        };
        let detached = {
            let mut siblings = lock(&parent.children);
            if self.handles.load(Ordering::Acquire) != 0 || self.pinned() {
                return;
            }
            parent.take_child(&mut siblings, self)
        };
        if let Some(node) = detached {
            // Freed outside the parent's lock, at once unless a caller is still inside it.
            drop(node);
            parent.detach_if_unused();
        }
    }

    /// Takes `child` out of this node's attached children (`siblings`, locked) and its registry
    /// out of this node's registry, and marks it and its subtree removed. `None` if it was not
    /// attached here.
    fn take_child(
        &self,
        siblings: &mut HashMap<ChildKey, Arc<Node>>,
        child: &Node,
    ) -> Option<Arc<Node>> {
        let key = (child.kind, child.name.clone());
        if !siblings
            .get(&key)
            .is_some_and(|attached| std::ptr::eq(Arc::as_ptr(attached), child))
        {
            return None;
        }
        let taken = siblings.remove(&key)?;
        self.registry.remove_child_registry(&taken.registry);
        taken.mark_removed();
        Some(taken)
    }

    /// Marks this level and everything below it removed: asking them for a child, or creating a
    /// metric on them, fails from now on.
    fn mark_removed(&self) {
        let children = lock(&self.children);
        self.registry.mark_removed();
        for child in children.values() {
            child.mark_removed();
        }
    }

    /// Takes this level (and its subtree) out of the tree now, whatever it holds.
    fn remove(&self) {
        let Some(parent) = self.parent.as_ref().and_then(Weak::upgrade) else {
            return;
        };
        let taken = {
            let mut siblings = lock(&parent.children);
            parent.take_child(&mut siblings, self)
        };
        if let Some(node) = taken {
            drop(node);
            parent.detach_if_unused();
        }
    }
}

/// A counted handle on a node: while one is alive, the node stays attached. The last one to go
/// detaches the node unless something else keeps it.
struct NodeRef(Arc<Node>);

impl NodeRef {
    fn counted(node: Arc<Node>) -> Self {
        node.handles.fetch_add(1, Ordering::AcqRel);
        Self(node)
    }
}

impl Clone for NodeRef {
    fn clone(&self) -> Self {
        Self::counted(self.0.clone())
    }
}

impl Drop for NodeRef {
    fn drop(&mut self) {
        if self.0.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.detach_if_unused();
        }
    }
}

impl Deref for NodeRef {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.0
    }
}

/// Called by a registry whose writable contents shrank (a metric unregistered): its level may
/// now be unused.
pub(crate) fn registry_released(level: &Weak<Node>) {
    if let Some(node) = level.upgrade()
        && node.handles.load(Ordering::Acquire) == 0
    {
        node.detach_if_unused();
    }
}

/// A handle that keeps a level of the crate's hierarchy attached, as the level's own handles do,
/// without giving access to it. Cheap to clone (one reference count and one atomic increment).
///
/// Something registered at a level that writes values only through handles of its own can hold
/// a guard instead of pinning the level for ever: the level then leaves the tree when the guard
/// and the level's handles are all gone. Get one with [`MetricsRegistry::level_guard`].
#[derive(Clone)]
pub struct LevelGuard(NodeRef);

impl LevelGuard {
    pub(crate) fn from_level(level: &Weak<Node>) -> Option<Self> {
        let node = level.upgrade()?;
        let Some(parent) = node.parent.as_ref().and_then(Weak::upgrade) else {
            // The root never detaches.
            return Some(Self(NodeRef::counted(node)));
        };
        // Counted under the parent's lock, so that a detach in flight either sees the guard or
        // has already marked the level removed.
        let _siblings = lock(&parent.children);
        if node.registry.is_removed() {
            return None;
        }
        Some(Self(NodeRef::counted(node)))
    }
}

impl fmt::Debug for LevelGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LevelGuard")
            .field(&self.0.describe())
            .finish()
    }
}

/// A weak reference to a level, for tests: it says whether the level's memory is still held.
#[cfg(feature = "testing")]
#[derive(Clone, Debug)]
pub struct WeakLevel(Weak<Node>);

#[cfg(feature = "testing")]
impl WeakLevel {
    /// Whether the level's node is still in memory (attached, or held by a handle).
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

/// The root of a worker's hierarchy (the distributed runtime in Dynamo's terms). It gives no label
/// itself; its connection id, if any, becomes the `worker_id` label of every metric below it.
///
/// Below it come [`Namespace`]s (nestable), [`Component`]s and [`Endpoint`]s. Each level has its
/// own [`MetricsRegistry`], linked under its parent's, so the combined scrape of a level includes
/// all its descendants and none of its ancestors or siblings. Asking a level for a child by a name
/// it already has returns that same child (same registry).
///
/// Labels follow the level's kind, not its depth: under nested namespaces `a` → `b` the namespace
/// label is the whole path (`a.b`, sanitized to `a_b`), and component and endpoint labels stay
/// their own names.
///
/// ```
/// use engine_gauges::prometheus::IntGauge;
/// use engine_gauges::{MetricsRoot, create_metric};
///
/// let root = MetricsRoot::with_connection_id(0x2a);
/// let endpoint = root
///     .namespace("dynamo")?
///     .namespace("prod")?
///     .component("backend")?
///     .endpoint("generate")?;
/// let in_flight: IntGauge =
///     create_metric(&endpoint, "inflight_requests", "Requests in flight.", &[], None, None)?;
/// in_flight.set(2);
///
/// // The root's page holds every level below it.
/// let page = root.registry().prometheus_expfmt_combined()?;
/// assert!(page.contains(
///     "dynamo_component_inflight_requests{dynamo_component=\"backend\",\
///      dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo_prod\",worker_id=\"2a\"} 2\n"
/// ));
/// assert_eq!(page, endpoint.registry().prometheus_expfmt_combined()?);
/// # Ok::<(), engine_gauges::Error>(())
/// ```
///
/// # Lifetime
///
/// A level stays in the tree (attached to its parent, its series on the parent's page) while any
/// of these holds:
/// - a handle on it is alive: the level itself or a clone, a handle of a level below it (a child
///   keeps its parents alive), or a [`LevelGuard`];
/// - a level below it is still attached;
/// - its registry holds something that may still be written through handles the crate does not
///   see: a metric made by [`create_metric`](crate::create_metric) (gauge sets registered through
///   [`EngineGauges::register`](crate::EngineGauges::register) included), a bridged collector or
///   registry, a callback, or a registry linked with [`MetricsRegistry::add_child_registry`].
///   Dropping the level's handles never loses a write to one of those.
///
/// When the last of these goes, the level detaches at that moment (not at the next scrape): its
/// registry leaves its parent's, and its memory returns. Asking the parent for that name again
/// then gives a fresh, empty level.
///
/// To take a level that still holds metrics off the page, remove it explicitly
/// ([`Endpoint::remove`], [`Component::remove`], [`Namespace::remove`]), or unregister its
/// metrics ([`MetricsRegistry::unregister`]). A removed level leaves the tree at once; one whose
/// last metric was unregistered leaves it when its handles are gone (at once if they already are).
/// A [`MetricsRegistry`] clone does not keep its level attached: hold the level instead.
#[derive(Clone)]
pub struct MetricsRoot {
    node: NodeRef,
    connection_id: Option<u64>,
}

impl MetricsRoot {
    /// A root without a connection id: metrics get no `worker_id` label.
    pub fn new() -> Self {
        let node = Node::root();
        node.registry.set_label(node.describe());
        Self {
            node: NodeRef::counted(node),
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
    /// [`Error::Level`] with
    /// [`LevelErrorKind::InvalidName`](crate::error::LevelErrorKind::InvalidName) if `name` has no
    /// character valid in a label value.
    pub fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        Ok(Namespace {
            root: self.clone(),
            outer: None,
            path: name.to_owned(),
            node: self.node.0.child("namespace", name)?,
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
    // Dropped first: a level lets go of itself before its parents.
    node: NodeRef,
    root: MetricsRoot,
    outer: Option<Arc<Namespace>>,
    path: String,
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
    /// [`Error::Level`] with
    /// [`LevelErrorKind::InvalidName`](crate::error::LevelErrorKind::InvalidName) if `name` has no
    /// character valid in a label value.
    pub fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        Ok(Namespace {
            root: self.root.clone(),
            path: format!("{}.{name}", self.path),
            node: self.node.0.child("namespace", name)?,
            outer: Some(Arc::new(self.clone())),
        })
    }

    /// The component `name` in this namespace.
    ///
    /// # Errors
    /// [`Error::Level`] with
    /// [`LevelErrorKind::InvalidName`](crate::error::LevelErrorKind::InvalidName) if `name` has no
    /// character valid in a label value.
    pub fn component(&self, name: &str) -> Result<Component, Error> {
        Ok(Component {
            node: self.node.0.child("component", name)?,
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
    // Dropped first: a level lets go of itself before its parents.
    node: NodeRef,
    namespace: Namespace,
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
    /// [`Error::Level`] with
    /// [`LevelErrorKind::InvalidName`](crate::error::LevelErrorKind::InvalidName) if `name` has no
    /// character valid in a label value.
    pub fn endpoint(&self, name: &str) -> Result<Endpoint, Error> {
        Ok(Endpoint {
            node: self.node.0.child("endpoint", name)?,
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
    // Dropped first: a level lets go of itself before its parents.
    node: NodeRef,
    component: Component,
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

macro_rules! removable_level {
    ($($ty:ident),*) => {$(
        impl $ty {
            /// Takes this level, and every level below it, out of the tree now, whatever it holds:
            /// its series leave its parent's page (and every page above), and asking the parent
            /// for this name again gives a fresh, empty level.
            ///
            /// Metrics, callbacks and collectors registered on it are not served any more: writes
            /// to a metric kept from it still succeed, but are seen by no page, as after
            /// `prometheus::Registry::unregister`. Other handles on the removed level stay valid;
            /// asking them for a child or creating a metric on them fails with [`Error::Level`]
            /// with [`LevelErrorKind::Removed`](crate::error::LevelErrorKind::Removed). Removing a
            /// level that is already out of the tree changes nothing.
            pub fn remove(self) {
                self.node.remove();
            }

            /// A weak reference to this level's node, to check in tests when its memory returns.
            #[cfg(feature = "testing")]
            #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
            pub fn downgrade(&self) -> WeakLevel {
                WeakLevel(Arc::downgrade(&self.node.0))
            }
        }
    )*};
}

removable_level!(Namespace, Component, Endpoint);
