//! The generated code, parsed back as a file of items and checked piece by piece: which items
//! there are and their attributes, the paths into the runtime, what each descriptor says, how
//! `register`, `unregister` and `update` use the fields, and where spans point.

use super::{KV, Nodes, descriptors, parse};
use crate::expand;
use proc_macro2::{LineColumn, TokenStream};
use quote::{ToTokens, quote};
use std::collections::BTreeMap;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, FieldValue, File, ImplItem, ImplItemFn, Item};
use syn::{ItemImpl, Pat, Stmt, Token};

/// A struct with a crate path that names no runtime path itself: a per-rank field read from the
/// snapshot, a family over a label set, and a histogram whose bounds a path names.
const WITH_CRATE: &str = r#"
    #[gauges(snapshot = Snap, prefix = "", crate = ::my::eg)]
    struct S {
        #[gauge(help = "Load time.", from = load, name = "load_seconds")]
        r#type: PerRank<Gauge>,
        #[metric(help = "By reason.", labels("reason"))]
        reasons_total: Family<Reason, Counter>,
        #[metric(help = "Latency.", buckets = LATENCY)]
        latency_seconds: Histogram,
    }
"#;

/// The output of the derive for `src`, parsed as a file.
fn derive(src: &str) -> File {
    let out = expand::derive(&parse(src));
    syn::parse2(out.clone()).unwrap_or_else(|error| panic!("{error}: {out}"))
}

/// The tokens of `node`, as `TokenStream` prints them.
fn text(node: impl ToTokens) -> String {
    node.to_token_stream().to_string()
}

/// Each item's header: its attributes and what it is.
fn headers(file: &File) -> Vec<String> {
    let header = |item: &Item| match item {
        Item::Impl(item) => {
            let (attrs, generics, self_ty) = (&item.attrs, &item.generics, &item.self_ty);
            let of = item.trait_.as_ref().map(|(path, _)| quote!(#path for));
            quote!(#(#attrs)* impl #generics #of #self_ty)
        }
        Item::Const(item) => {
            let (attrs, ident, ty) = (&item.attrs, &item.ident, &item.ty);
            quote!(#(#attrs)* const #ident: #ty)
        }
        Item::Macro(item) => item.mac.path.to_token_stream(),
        item => panic!("unexpected item {}", text(item)),
    };
    file.items.iter().map(header).map(text).collect()
}

/// The impl of `file` that implements a trait, and the inherent one, if any.
fn impls(file: &File) -> (&ItemImpl, Option<&ItemImpl>) {
    let mut impls = file.items.iter().filter_map(|item| match item {
        Item::Impl(item) => Some(item),
        _ => None,
    });
    let of_trait = impls.find(|item| item.trait_.is_some()).unwrap();
    (of_trait, impls.find(|item| item.trait_.is_none()))
}

/// The method `name` of `item`.
fn method<'a>(item: &'a ItemImpl, name: &str) -> &'a ImplItemFn {
    let found = item.items.iter().find_map(|item| match item {
        ImplItem::Fn(method) if method.sig.ident == name => Some(method),
        _ => None,
    });
    found.unwrap_or_else(|| panic!("no method `{name}` in {}", text(item)))
}

/// The nodes `walk` visits.
fn nodes<'ast>(walk: impl FnOnce(&mut Nodes<'ast>)) -> Nodes<'ast> {
    let mut nodes = Nodes::default();
    walk(&mut nodes);
    nodes
}

/// The calls among `nodes` to a function whose path ends in `name`, as text.
fn calls(nodes: &Nodes<'_>, name: &str) -> Vec<String> {
    nodes.calls_to(name).into_iter().map(text).collect()
}

/// Where the first `needle` of `src` starts.
fn position(src: &str, needle: &str) -> LineColumn {
    let before = &src[..src.find(needle).unwrap()];
    LineColumn {
        line: before.matches('\n').count() + 1,
        column: before.chars().rev().take_while(|&c| c != '\n').count(),
    }
}

/// Where each ident `name` of `tokens` starts.
fn starts_of(tokens: TokenStream, name: &str) -> Vec<LineColumn> {
    tokens
        .into_iter()
        .flat_map(|token| match token {
            proc_macro2::TokenTree::Group(group) => starts_of(group.stream(), name),
            proc_macro2::TokenTree::Ident(ident) if ident == name => vec![ident.span().start()],
            _ => Vec::new(),
        })
        .collect()
}

/// Asserts that every path of `file` that starts with `::` goes to `core` or through `krate`, and
/// that no other path names `engine_gauges`, `prometheus` or the runtime's `__private` module.
#[track_caller]
fn assert_crate_paths(file: &File, krate: &TokenStream) {
    let krate = format!("{krate} ::");
    let mut through_krate = 0;
    for path in nodes(|nodes| nodes.visit_file(file)).paths {
        let path_text = text(path);
        if path_text.starts_with(&krate) {
            through_krate += 1;
            continue;
        }
        let elsewhere = path.leading_colon.is_some() && !path_text.starts_with(":: core ::");
        assert!(!elsewhere, "{path_text}");
        for name in ["engine_gauges", "prometheus", "__private"] {
            let names = path.segments.iter().any(|segment| segment.ident == name);
            assert!(!names, "`{path_text}` does not go through `{krate}`");
        }
    }
    assert!(through_krate > 0, "no path goes through `{krate}`");
}

#[track_caller]
fn assert_tokens(node: impl ToTokens, expected: TokenStream) {
    assert_eq!(text(node), expected.to_string());
}

/// Asserts that `descriptor` has each field of `expected` (`name: value, ..`), with that value.
#[track_caller]
fn assert_fields(descriptor: &BTreeMap<String, &Expr>, expected: TokenStream) {
    let expected = Punctuated::<FieldValue, Token![,]>::parse_terminated.parse2(expected);
    for field in expected.unwrap() {
        let name = text(&field.member);
        assert_eq!(text(descriptor[&name]), text(&field.expr), "`{name}`");
    }
}

#[test]
fn the_impls_are_automatically_derived_and_go_through_the_crate_path() {
    let file = derive(KV);
    let impls = [
        quote!(#[automatically_derived] impl ::engine_gauges::EngineGauges for Kv),
        quote!(#[automatically_derived] impl Kv),
    ];
    assert_eq!(headers(&file), impls.map(text));
    assert_crate_paths(&file, &quote!(::engine_gauges));
    // The check of bucket bounds named by a path is an anonymous const, at the path; nothing
    // named is added next to the struct.
    let file = derive(WITH_CRATE);
    assert_crate_paths(&file, &quote!(::my::eg));
    let items = [
        quote!(const _: ()),
        quote!(#[automatically_derived] impl ::my::eg::EngineGauges for S),
        quote!(#[automatically_derived] impl S),
    ];
    assert_eq!(headers(&file), items.map(text));
    let Item::Const(check) = &file.items[0] else {
        unreachable!()
    };
    let at = position(WITH_CRATE, "LATENCY");
    assert_eq!(check.const_token.span.start(), at);
    let check = nodes(|nodes| nodes.visit_expr(&check.expr));
    let call = quote! { ::my::eg::__private::rules::check_buckets(&LATENCY) };
    assert_eq!(calls(&check, "check_buckets"), [text(call)]);
}

#[test]
fn each_descriptor_carries_what_its_field_declared() {
    let file = derive(KV);
    let [total_blocks, hit_rate, waiting] = &descriptors(&file)[..] else {
        panic!("not one descriptor per field")
    };
    let expected = quote! {
        prefix: "dynamo_component", short_name: "total_blocks",
        name: "dynamo_component_total_blocks",
        kind: ::engine_gauges::__private::MetricKind::IntGaugeVec, per_rank: true, seeded: true,
        help: "Total number of KV cache blocks available on the worker.",
        variable_labels: &["dp_rank"], label_values: &[], buckets: &[],
        max_undeclared_ranks: ::engine_gauges::limits::DEFAULT_MAX_UNDECLARED_RANKS,
        const_labels: &[("engine", "mocker")], field: "total_blocks",
    };
    assert_fields(total_blocks, expected);
    let expected = quote! {
        name: "dynamo_component_kv_cache_hit_rate",
        kind: ::engine_gauges::__private::MetricKind::GaugeVec, seeded: false,
        help: "Prefix cache hit rate (0.0-1.0). Portable across engines.",
    };
    assert_fields(hit_rate, expected);
    let expected = quote! {
        kind: ::engine_gauges::__private::MetricKind::IntGaugeVec, per_rank: false,
        variable_labels: &["lora_adapter"], const_labels: &[("engine", "mocker")],
    };
    assert_fields(waiting, expected);
    // `name`, an empty prefix, a raw field name, a label set and a bucket path.
    let file = derive(WITH_CRATE);
    let [load, reasons, latency] = &descriptors(&file)[..] else {
        panic!("not one descriptor per field")
    };
    let expected = quote! {
        prefix: "", short_name: "load_seconds", name: "load_seconds", field: "type",
        kind: ::my::eg::__private::MetricKind::GaugeVec,
    };
    assert_fields(load, expected);
    assert_fields(reasons, quote!(variable_labels: &["reason"]));
    let label_values = nodes(|nodes| nodes.visit_expr(reasons["label_values"]));
    let call = quote! { ::my::eg::__private::label_values::<Reason>(1usize) };
    assert_eq!(calls(&label_values, "label_values"), [text(call)]);
    assert_fields(latency, quote!(buckets: &LATENCY));
}

#[test]
fn register_builds_each_field_and_unregister_takes_back_the_plain_ones() {
    let file = derive(KV);
    let register = method(impls(&file).0, "register");
    let typed = |stmt: &&Stmt| matches!(stmt, Stmt::Local(l) if matches!(l.pat, Pat::Type(_)));
    let lets: Vec<_> = register
        .block
        .stmts
        .iter()
        .filter(typed)
        .map(text)
        .collect();
    let expected = [
        quote!(let __f0: PerRank<IntGauge> = __registrar.per_rank(0, __dp_ranks)?;),
        quote!(let __f1: PerRank<Gauge> = __registrar.per_rank(1, __dp_ranks)?;),
        quote!(let __f2: IntGaugeVec = __registrar.metric(2)?;),
    ];
    assert_eq!(lets, expected.map(text));
    let built = nodes(|nodes| nodes.visit_block(&register.block)).structs;
    let built = built.into_iter().find(|node| node.path.is_ident("Self"));
    let fields = quote!(total_blocks: __f0, kv_cache_hit_rate: __f1, waiting_requests: __f2);
    assert_tokens(&built.unwrap().fields, fields);
    // Only the plain field leaves the registry by name; the store's fields leave with `self`.
    let unregister = method(impls(&file).0, "unregister");
    let body = nodes(|nodes| nodes.visit_block(&unregister.block));
    let call = quote! {
        ::engine_gauges::__private::unregister(
            __metrics,
            <Self as ::engine_gauges::EngineGauges>::DESCRIPTORS[2].name,
            &self.waiting_requests,
        )
    };
    assert_eq!(calls(&body, "unregister"), [text(call)]);
}

#[test]
fn update_writes_each_from_field() {
    let file = derive(KV);
    let update = method(impls(&file).1.unwrap(), "update");
    let signature = quote! { fn update(&self, snapshot: &ComponentSnapshot) };
    assert_tokens(&update.sig, signature);
    let body = nodes(|nodes| nodes.visit_block(&update.block));
    let rank = quote! { ::engine_gauges::__private::DpRank::dp_rank(snapshot.dp_rank) };
    assert_eq!(calls(&body, "dp_rank"), [text(rank)]);
    let writes = [
        quote! {
            ::engine_gauges::__private::write_rank(&self.total_blocks, __rank, snapshot.kv_total_blocks)
        },
        quote! {
            ::engine_gauges::__private::write_rank(
                &self.kv_cache_hit_rate, __rank, snapshot.kv_cache_hit_rate
            )
        },
    ];
    assert_eq!(calls(&body, "write_rank"), writes.map(text));
    assert_eq!(
        update.block.stmts.len(),
        3,
        "the rank, then one write per field"
    );
    // The docs list what is written where.
    let doc = " - `total_blocks` ← `snapshot.kv_total_blocks`, at rank `snapshot.dp_rank`";
    let docs: Vec<_> = update.attrs.iter().map(text).collect();
    assert!(docs.contains(&text(quote!(#[doc = #doc]))), "{docs:#?}");
    // A field that is not per rank is written without a rank, which is then not read.
    let file =
        derive("#[gauges(snapshot = Snap)] struct S { /// h\n #[gauge(from = t)] r#type: Gauge }");
    let update = method(impls(&file).1.unwrap(), "update");
    let body = nodes(|nodes| nodes.visit_block(&update.block));
    let write = quote! { ::engine_gauges::__private::write(&self.r#type, snapshot.t) };
    assert_eq!(calls(&body, "write"), [text(write)]);
    assert!(calls(&body, "dp_rank").is_empty());
    // Without `from` fields it writes nothing; without a snapshot there is no `update`.
    let file = derive("#[gauges(snapshot = Snap)] struct S { /// h\n x: Gauge }");
    let update = method(impls(&file).1.unwrap(), "update");
    assert_tokens(&update.block, quote! {{ let _ = snapshot; }});
    assert!(impls(&derive("struct S { /// h\n x: Gauge }")).1.is_none());
}

#[test]
fn errors_come_with_a_fallback_impl() {
    // `model` is a label the engine adds itself, and neither field has help text.
    let src =
        "#[gauges(snapshot = Snap)] struct S { #[gauge(labels(\"model\"))] x: GaugeVec, y: Gauge }";
    let file = derive(src);
    let error = quote!(::core::compile_error);
    let items = [
        error.clone(),
        error.clone(),
        error.clone(),
        quote!(#[automatically_derived] impl ::engine_gauges::EngineGauges for S),
        quote!(#[automatically_derived] impl S),
    ];
    assert_eq!(headers(&file), items.map(text));
    let (fallback, update) = impls(&file);
    let bound = quote! {
        where for<'__gauges> S: ::core::marker::Send + ::core::marker::Sync + 'static
    };
    assert_tokens(&fallback.generics.where_clause, bound);
    let ImplItem::Const(descriptors) = &fallback.items[0] else {
        panic!("{}", text(fallback))
    };
    assert_tokens(&descriptors.expr, quote!(&[]));
    // `register` only panics: it is never called, as the crate does not compile.
    let register = &method(fallback, "register").block;
    let [Stmt::Expr(Expr::Macro(body), None)] = &register.stmts[..] else {
        panic!("{}", text(register))
    };
    assert_tokens(&body.mac.path, quote!(::core::unreachable));
    let update = method(update.unwrap(), "update");
    assert_tokens(&update.attrs[0], quote!(#[doc(hidden)]));
    assert_tokens(&update.sig, quote!(fn update(&self, _: &Snap)));
    assert!(update.block.stmts.is_empty());
    // Inputs that are not a struct of supported fields get one too.
    let fallback = text(quote!(#[automatically_derived] impl ::engine_gauges::EngineGauges for));
    for src in [
        "enum E { A }",
        "struct S { /// h\n x: Rc<Gauge>, /// h\n y: PerRank<Gauge> }",
        "struct S { /// h\n x: PerRank<GaugeVec>, /// h\n y: Gauge }",
    ] {
        let headers = headers(&derive(src));
        assert_eq!(headers[0], text(&error), "{src}");
        assert!(headers[1].starts_with(&fallback), "{src}: {headers:?}");
    }
    // A generic input, an error itself, gets a fallback with its parameters and bounds.
    let file = derive(
        "#[gauges(snapshot = Snap)] struct G<'a, T: Copy, const N: usize> where T: Eq { /// h\n x: Gauge }",
    );
    let (fallback, update) = impls(&file);
    let generics = quote!(<'a, T: Copy, const N: usize>);
    assert_tokens(&fallback.generics, generics.clone());
    assert_tokens(&fallback.self_ty, quote!(G<'a, T, N>));
    let bounds = quote! {
        where
            T: Eq,
            for<'__gauges> G<'a, T, N>: ::core::marker::Send + ::core::marker::Sync + 'static
    };
    assert_tokens(&fallback.generics.where_clause, bounds);
    let update = update.unwrap();
    assert_tokens(&update.generics, generics);
    assert_tokens(&update.generics.where_clause, quote!(where T: Eq));
}

#[test]
fn calls_point_at_the_user_tokens() {
    let src =
        "#[gauges(snapshot = Snap)]\nstruct S {\n/// h\n#[gauge(from = v)]\nx: PerRank<Gauge>,\n}";
    let out = expand::derive(&parse(src));
    let (from, snapshot) = (position(src, "v)"), position(src, "Snap"));
    assert_eq!(starts_of(out.clone(), "write_rank"), [from]);
    assert_eq!(starts_of(out.clone(), "dp_rank"), [snapshot, snapshot]);
    // The crate path of each call too, so no part of an error points at the derive.
    let krate = starts_of(out.clone(), "engine_gauges");
    let both = krate.contains(&from) && krate.contains(&snapshot);
    assert!(both, "{krate:?}");
    // A field's registration points at its type, its `line!()` at its name.
    let file: File = syn::parse2(out).unwrap();
    let register = method(impls(&file).0, "register");
    let Some(Stmt::Local(field)) = register.block.stmts.get(1) else {
        panic!("{}", text(&register.block))
    };
    assert_eq!(field.let_token.span.start(), position(src, "PerRank"));
    let line = descriptors(&file)[0]["line"].to_token_stream();
    let starts: Vec<_> = line.into_iter().map(|token| token.span().start()).collect();
    let field = position(src, "x:");
    let at_field = !starts.is_empty() && starts.iter().all(|start| *start == field);
    assert!(at_field, "{starts:?}");
}
