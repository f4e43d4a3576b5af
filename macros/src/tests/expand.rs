//! The generated code.

use super::KV;
use super::parse;
use crate::expand;
use quote::quote;

fn derive(src: &str) -> String {
    expand::derive(&parse(src)).to_string()
}

/// The text of one field's descriptor in `out`: from its `short_name` to the next `.build()`.
fn descriptor_of<'a>(out: &'a str, short_name: &str) -> &'a str {
    let needle = format!("short_name : \"{short_name}\"");
    let start = out
        .find(&needle)
        .unwrap_or_else(|| panic!("no descriptor for {short_name} in\n{out}"));
    let end = start + out[start..].find(". build ()").unwrap();
    &out[start..end]
}

#[track_caller]
fn assert_contains(haystack: &str, pieces: &[proc_macro2::TokenStream]) {
    for piece in pieces {
        let piece = piece.to_string();
        assert!(haystack.contains(&piece), "{piece}\nnot in\n{haystack}");
    }
}

#[test]
fn kv_expansion() {
    let out = derive(KV);
    assert_contains(&out, &[quote!(impl ::engine_gauges::EngineGauges for Kv)]);
    assert_contains(
        descriptor_of(&out, "total_blocks"),
        &[
            quote!(name: "dynamo_component_total_blocks"),
            quote!(kind: ::engine_gauges::__private::MetricKind::IntGaugeVec),
            quote!(per_rank: true, seeded: true),
            quote!(help: "Total number of KV cache blocks available on the worker."),
            quote!(variable_labels: &["dp_rank"], label_values: &[], buckets: &[]),
            quote!(const_labels: &[("engine", "mocker")], field: "total_blocks"),
        ],
    );
    assert_contains(
        descriptor_of(&out, "kv_cache_hit_rate"),
        &[
            quote!(kind: ::engine_gauges::__private::MetricKind::GaugeVec),
            quote!(per_rank: true, seeded: false),
            quote!(variable_labels: &["dp_rank"]),
        ],
    );
    assert_contains(
        descriptor_of(&out, "waiting_requests"),
        &[
            quote!(kind: ::engine_gauges::__private::MetricKind::IntGaugeVec),
            quote!(per_rank: false, seeded: true),
            quote!(help: "Requests waiting, by adapter."),
            quote!(variable_labels: &["lora_adapter"]),
        ],
    );
    assert_contains(
        &out,
        &[
            quote!(let __f0: PerRank<IntGauge> = __registrar.per_rank(0, __dp_ranks)?;),
            quote!(let __f1: PerRank<Gauge> = __registrar.per_rank(1, __dp_ranks)?;),
            quote!(let __f2: IntGaugeVec = __registrar.metric(2)?;),
            quote!(
                __registrar.commit();
                ::core::result::Result::Ok(Self {
                    total_blocks: __f0,
                    kv_cache_hit_rate: __f1,
                    waiting_requests: __f2
                })
            ),
            quote!(#[doc = " Writes the snapshot's values into the gauges declared with `#[metric(from = ..)]`:"]),
            quote!(#[doc = " - `total_blocks` ← `snapshot.kv_total_blocks`, at rank `snapshot.dp_rank`"]),
            quote! {
                pub fn update(&self, snapshot: &ComponentSnapshot) {
                    let __rank: ::core::primitive::u32 = ::engine_gauges::__private::DpRank::dp_rank(snapshot.dp_rank);
                    ::engine_gauges::__private::write_rank(&self.total_blocks, __rank, snapshot.kv_total_blocks);
                    ::engine_gauges::__private::write_rank(&self.kv_cache_hit_rate, __rank, snapshot.kv_cache_hit_rate);
                }
            },
        ],
    );
    // No field has bucket bounds named by a path or a label set, so no assertion is generated.
    assert!(!out.contains("const _"), "{out}");
}

#[test]
fn plain_fields_prefix_and_crate_path() {
    let out = derive(
        r#"
        #[gauges(snapshot = Snap, prefix = "", crate = ::my::eg)]
        struct S {
            /// Load time.
            #[gauge(from = load, name = "load_seconds")]
            r#type: Gauge,
        }
        "#,
    );
    assert!(!out.contains("engine_gauges"), "{out}");
    for piece in [
        quote!(impl ::my::eg::EngineGauges for S),
        quote!(prefix: "", short_name: "load_seconds", name: "load_seconds"),
        quote!(kind: ::my::eg::__private::MetricKind::Gauge, per_rank: false, seeded: true),
        quote!(variable_labels: &[], label_values: &[], buckets: &[]),
        quote!(max_undeclared_ranks: ::my::eg::limits::DEFAULT_MAX_UNDECLARED_RANKS, const_labels: &[], field: "type"),
        quote!(let __f0: Gauge = __registrar.metric(0)?;),
        quote!(Self { r#type: __f0 }),
        quote!(
            pub fn update(&self, snapshot: &Snap) {
                ::my::eg::__private::write(&self.r#type, snapshot.load);
            }
        ),
    ] {
        assert!(out.contains(&piece.to_string()), "{piece}\nnot in\n{out}");
    }
    // No per-rank field reads the snapshot's rank.
    assert!(!out.contains("__rank"), "{out}");
}

#[test]
fn update_without_from_fields_writes_nothing() {
    let out = derive("#[gauges(snapshot = Snap)] struct S { /// h\n x: Gauge }");
    assert!(
        out.contains(
            &quote!(
                pub fn update(&self, snapshot: &Snap) {
                    let _ = snapshot;
                }
            )
            .to_string()
        ),
        "{out}"
    );
    let out = derive("struct S { /// h\n x: Gauge }");
    assert!(!out.contains("update"), "{out}");
}

#[test]
fn errors_come_with_a_fallback_impl() {
    let out = derive(
        "#[gauges(snapshot = Snap)] struct S { #[gauge(labels(\"model\"))] x: GaugeVec, y: Gauge }",
    );
    assert_eq!(out.matches("compile_error").count(), 3, "{out}");
    let fallback = quote! {
        #[automatically_derived]
        impl ::engine_gauges::EngineGauges for S
        where
            for<'__gauges> S: ::core::marker::Send + ::core::marker::Sync + 'static
        {
            const DESCRIPTORS: &'static [::engine_gauges::metric::MetricDescriptor] = &[];

            fn register(
                _: &::engine_gauges::EngineMetrics,
                _: &[::core::primitive::u32],
            ) -> ::core::result::Result<Self, ::engine_gauges::Error> {
                ::core::unreachable!("`#[derive(EngineGauges)]` failed; see the errors it reported")
            }
        }
        #[automatically_derived]
        impl S {
            #[doc(hidden)]
            pub fn update(&self, _: &Snap) {}
        }
    };
    assert!(out.ends_with(&fallback.to_string()), "{out}");
    // Shapes that have no fields get one too.
    assert!(derive("enum E { A }").contains("impl :: engine_gauges :: EngineGauges for E"));
    // Unsupported field types get one, a `PerRank` of an unsupported type too: `PerRank<R>`
    // bounds nothing, so the struct stays well-formed.
    let out = derive("struct S { /// h\n x: Rc<Gauge>, /// h\n y: PerRank<Gauge> }");
    assert!(
        out.contains("impl :: engine_gauges :: EngineGauges for S"),
        "{out}"
    );
    let out = derive("struct S { /// h\n x: PerRank<GaugeVec>, /// h\n y: Gauge }");
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("impl :: engine_gauges :: EngineGauges for S"),
        "{out}"
    );
}

#[test]
fn generic_inputs_get_a_generic_fallback() {
    let out = derive(
        "#[gauges(snapshot = Snap)] struct G<'a, T: Copy, const N: usize> where T: Eq { /// h\n x: Gauge }",
    );
    assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    for piece in [
        quote! {
            impl<'a, T: Copy, const N: usize> ::engine_gauges::EngineGauges for G<'a, T, N>
            where
                T: Eq,
                for<'__gauges> G<'a, T, N>: ::core::marker::Send + ::core::marker::Sync + 'static
        },
        quote! {
            impl<'a, T: Copy, const N: usize> G<'a, T, N> where T: Eq {
                #[doc(hidden)]
                pub fn update(&self, _: &Snap) {}
            }
        },
    ] {
        assert!(out.contains(&piece.to_string()), "{piece}\nnot in\n{out}");
    }
}

/// Where each ident `name` of `tokens` starts.
fn starts_of(tokens: proc_macro2::TokenStream, name: &str) -> Vec<proc_macro2::LineColumn> {
    tokens
        .into_iter()
        .flat_map(|token| match token {
            proc_macro2::TokenTree::Group(group) => starts_of(group.stream(), name),
            proc_macro2::TokenTree::Ident(ident) if ident == name => vec![ident.span().start()],
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn snapshot_reads_point_at_the_user_tokens() {
    let src =
        "#[gauges(snapshot = Snap)]\nstruct S {\n/// h\n#[gauge(from = v)]\nx: PerRank<Gauge>,\n}";
    let out = expand::derive(&parse(src));
    let from = proc_macro2::LineColumn {
        line: 4,
        column: 15,
    };
    let snapshot = proc_macro2::LineColumn {
        line: 1,
        column: 20,
    };
    assert_eq!(starts_of(out.clone(), "write_rank"), [from]);
    assert_eq!(starts_of(out.clone(), "dp_rank"), [snapshot, snapshot]);
    // The crate path of each call too, so no part of an error points at the derive.
    let krate = starts_of(out, "engine_gauges");
    assert!(
        krate.contains(&from) && krate.contains(&snapshot),
        "{krate:?}"
    );
}
