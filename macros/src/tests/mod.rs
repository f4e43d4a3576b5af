//! Unit tests of the parser, the checks and the expansion, on derive inputs
//! given as source text so each error's span can be checked against the text
//! it underlines.

#![allow(clippy::unwrap_used)]

mod check;
mod expand;
mod kinds;
mod label;
mod parse;
mod rules;

use crate::ast::Input;
use crate::errors::Errors;
use crate::valid;
use proc_macro2::{LineColumn, Span, TokenStream};
use quote::ToTokens;
use std::collections::BTreeMap;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{DeriveInput, Expr, ExprCall, ExprStruct, File, GenericArgument, Lit, Member, Path};
use syn::{PathArguments, Token, Type, UnOp};

/// One reported error: its message, the source text it underlines and the
/// byte offset where that text starts.
#[derive(Debug)]
pub(crate) struct Diag {
    pub(crate) message: String,
    pub(crate) at: String,
    pub(crate) offset: usize,
}

/// The README's `Kv` example: per-rank fields, a labelled family, a snapshot.
pub(crate) const KV: &str = r#"
    #[gauges(snapshot = ComponentSnapshot, const_labels(engine = "mocker"))]
    pub struct Kv {
        /// Total number of KV cache blocks available on the worker.
        #[gauge(from = kv_total_blocks)]
        pub total_blocks: PerRank<IntGauge>,
        /// Prefix cache hit rate (0.0-1.0). Portable across engines.
        #[gauge(from = kv_cache_hit_rate, unseeded)]
        pub kv_cache_hit_rate: PerRank<Gauge>,
        /// Requests waiting, by adapter.
        #[gauge(labels("lora_adapter"))]
        pub waiting_requests: IntGaugeVec,
    }
"#;

pub(crate) fn parse(src: &str) -> DeriveInput {
    syn::parse_str(src).unwrap()
}

/// Every error the derive reports for `src`, in order.
pub(crate) fn diagnostics(src: &str) -> Vec<Diag> {
    let node = parse(src);
    let mut errors = Errors::default();
    let input = Input::from_syn(&node, &mut errors);
    valid::check(&input, &mut errors);
    diags(src, errors)
}

/// Every error in `errors`, in order, with the text of `src` it underlines.
pub(crate) fn diags(src: &str, errors: Errors) -> Vec<Diag> {
    match errors.finish() {
        Ok(()) => Vec::new(),
        Err(error) => error
            .into_iter()
            .map(|error| {
                let span = error.span();
                Diag {
                    message: error.to_string(),
                    at: text(src, span),
                    offset: offset(src, span.start()),
                }
            })
            .collect(),
    }
}

/// The single error reported for `src`.
#[track_caller]
pub(crate) fn only_error(src: &str) -> Diag {
    let mut diags = diagnostics(src);
    assert_eq!(diags.len(), 1, "expected exactly one error, got {diags:#?}");
    diags.remove(0)
}

/// Asserts that `src` has exactly one error, underlining `at`, whose message
/// contains every one of `parts`.
#[track_caller]
pub(crate) fn assert_error(src: &str, at: &str, parts: &[&str]) {
    let diag = only_error(src);
    assert_eq!(diag.at, at, "wrong span for {:?}", diag.message);
    for part in parts {
        assert!(
            diag.message.contains(part),
            "message {:?} lacks {part:?}",
            diag.message
        );
    }
}

#[track_caller]
pub(crate) fn assert_valid(src: &str) {
    let diags = diagnostics(src);
    assert!(diags.is_empty(), "unexpected errors: {diags:#?}");
}

/// The source text a span covers.
fn text(src: &str, span: Span) -> String {
    let start = offset(src, span.start());
    let end = offset(src, span.end());
    src[start..end].to_owned()
}

fn offset(src: &str, at: LineColumn) -> usize {
    let line_start: usize = src
        .split_inclusive('\n')
        .take(at.line - 1)
        .map(str::len)
        .sum();
    let line = &src[line_start..];
    line_start
        + line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(index, _)| index)
}

// The generated code, parsed back. Assertions look at one node of the syntax tree and compare
// what it is made of, written out by the functions below, so the spacing `TokenStream` puts
// between tokens plays no part.

/// Generated code, parsed back as a file of items; the tokens are shown if they are not one.
#[track_caller]
pub(crate) fn parse_file(tokens: TokenStream) -> File {
    syn::parse2(tokens.clone()).unwrap_or_else(|error| panic!("{error}: {tokens}"))
}

/// `path` written out from its segments, with a leading `::` if it has one and each generic
/// argument as `type_name` writes it: `::a::f::<(B, C)>`.
pub(crate) fn path_name(path: &Path) -> String {
    let mut name = String::new();
    if path.leading_colon.is_some() {
        name.push_str("::");
    }
    for (index, segment) in path.segments.iter().enumerate() {
        if index > 0 {
            name.push_str("::");
        }
        name.push_str(&segment.ident.to_string());
        match &segment.arguments {
            PathArguments::None => {}
            PathArguments::AngleBracketed(arguments) => {
                if arguments.colon2_token.is_some() {
                    name.push_str("::");
                }
                let arguments: Vec<_> = arguments.args.iter().map(argument_name).collect();
                name.push_str(&format!("<{}>", arguments.join(", ")));
            }
            PathArguments::Parenthesized(_) => {
                panic!("unexpected arguments in `{}`", path.to_token_stream())
            }
        }
    }
    name
}

fn argument_name(argument: &GenericArgument) -> String {
    match argument {
        GenericArgument::Type(ty) => type_name(ty),
        GenericArgument::Lifetime(lifetime) => lifetime.to_string(),
        argument => panic!("unexpected argument `{}`", argument.to_token_stream()),
    }
}

/// `ty` written out from its syntax tree: a path, a tuple, a reference or a slice.
pub(crate) fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(ty) if ty.qself.is_none() => path_name(&ty.path),
        Type::Tuple(ty) => {
            let elems: Vec<_> = ty.elems.iter().map(type_name).collect();
            match &elems[..] {
                [one] => format!("({one},)"),
                elems => format!("({})", elems.join(", ")),
            }
        }
        Type::Reference(ty) => {
            let lifetime = ty.lifetime.as_ref().map(|lifetime| format!("{lifetime} "));
            let mutability = if ty.mutability.is_some() { "mut " } else { "" };
            let elem = type_name(&ty.elem);
            format!("&{}{mutability}{elem}", lifetime.unwrap_or_default())
        }
        Type::Slice(ty) => format!("[{}]", type_name(&ty.elem)),
        ty => panic!("unexpected type `{}`", ty.to_token_stream()),
    }
}

/// `expr` written out from its syntax tree, for the forms that name things and call them:
/// paths, literals, fields, references, negations, arrays, calls, method calls and `?`.
pub(crate) fn expr_text(expr: &Expr) -> String {
    let list = |exprs: &Punctuated<Expr, Token![,]>| {
        let exprs: Vec<_> = exprs.iter().map(expr_text).collect();
        exprs.join(", ")
    };
    match expr {
        Expr::Path(expr) if expr.qself.is_none() => path_name(&expr.path),
        Expr::Lit(expr) => lit_text(&expr.lit),
        Expr::Field(expr) => format!("{}.{}", expr_text(&expr.base), member_name(&expr.member)),
        Expr::Reference(expr) if expr.mutability.is_none() => format!("&{}", expr_text(&expr.expr)),
        Expr::Unary(expr) if matches!(expr.op, UnOp::Neg(_)) => {
            format!("-{}", expr_text(&expr.expr))
        }
        Expr::Array(expr) => format!("[{}]", list(&expr.elems)),
        Expr::Call(expr) => call_text(expr),
        Expr::MethodCall(expr) if expr.turbofish.is_none() => {
            let receiver = expr_text(&expr.receiver);
            format!("{receiver}.{}({})", expr.method, list(&expr.args))
        }
        Expr::Try(expr) => format!("{}?", expr_text(&expr.expr)),
        expr => panic!("unexpected expression `{}`", expr.to_token_stream()),
    }
}

/// A call written out as `expr_text` writes it: `::a::f(&self.x, 2usize)`.
pub(crate) fn call_text(call: &ExprCall) -> String {
    let args: Vec<_> = call.args.iter().map(expr_text).collect();
    format!("{}({})", expr_text(&call.func), args.join(", "))
}

/// A literal by its value and suffix: `"a b"`, `2usize`, `0.5f64`, `true`.
fn lit_text(lit: &Lit) -> String {
    match lit {
        Lit::Str(lit) => format!("{:?}", lit.value()),
        Lit::Int(lit) => format!("{}{}", lit.base10_digits(), lit.suffix()),
        Lit::Float(lit) => format!("{}{}", lit.base10_digits(), lit.suffix()),
        Lit::Bool(lit) => lit.value.to_string(),
        lit => panic!("unexpected literal `{}`", lit.to_token_stream()),
    }
}

/// The name of a field: `total`, `r#type` or `0`.
pub(crate) fn member_name(member: &Member) -> String {
    match member {
        Member::Named(ident) => ident.to_string(),
        Member::Unnamed(index) => index.index.to_string(),
    }
}

/// The elements of a reference to an array, `&[..]`.
#[track_caller]
pub(crate) fn slice_elems(expr: &Expr) -> Vec<&Expr> {
    let Expr::Reference(reference) = expr else {
        panic!("not a reference: `{}`", expr.to_token_stream())
    };
    let Expr::Array(array) = &*reference.expr else {
        panic!("not a reference to an array: `{}`", expr.to_token_stream())
    };
    array.elems.iter().collect()
}

/// The value of a string literal.
#[track_caller]
pub(crate) fn str_value(expr: &Expr) -> String {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit.value(),
        expr => panic!("not a string literal: `{}`", expr.to_token_stream()),
    }
}

/// The values of `&["a", "b", ..]`.
#[track_caller]
pub(crate) fn str_values(expr: &Expr) -> Vec<String> {
    slice_elems(expr).into_iter().map(str_value).collect()
}

/// The values of `&[0.5f64, -1f64, ..]`, each a number literal with the suffix `f64`, negated or
/// not (`syn` reads `1f64`, without a point, as an integer literal).
#[track_caller]
pub(crate) fn f64_values(expr: &Expr) -> Vec<f64> {
    fn value(expr: &Expr) -> f64 {
        match expr {
            Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => -value(&unary.expr),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Float(lit),
                ..
            }) if lit.suffix() == "f64" => lit.base10_parse().unwrap(),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(lit), ..
            }) if lit.suffix() == "f64" => lit.base10_parse().unwrap(),
            expr => panic!("not an `f64` literal: `{}`", expr.to_token_stream()),
        }
    }
    slice_elems(expr).into_iter().map(value).collect()
}

/// The value of `true` or `false`.
#[track_caller]
pub(crate) fn bool_value(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(lit),
            ..
        }) => lit.value,
        expr => panic!("not a boolean literal: `{}`", expr.to_token_stream()),
    }
}

/// The paths, struct expressions and calls of a syntax tree, outside macro arguments.
#[derive(Default)]
pub(crate) struct Nodes<'ast> {
    pub(crate) paths: Vec<&'ast Path>,
    pub(crate) structs: Vec<&'ast ExprStruct>,
    pub(crate) calls: Vec<&'ast ExprCall>,
}

impl<'ast> Nodes<'ast> {
    /// The nodes of `file`.
    pub(crate) fn of(file: &'ast File) -> Self {
        let mut nodes = Self::default();
        nodes.visit_file(file);
        nodes
    }

    /// The calls to a function whose path ends in `name`.
    pub(crate) fn calls_to(&self, name: &str) -> Vec<&'ast ExprCall> {
        let named = |call: &&ExprCall| match &*call.func {
            Expr::Path(func) => func.path.segments.last().unwrap().ident == name,
            _ => false,
        };
        self.calls.iter().copied().filter(named).collect()
    }
}

impl<'ast> Visit<'ast> for Nodes<'ast> {
    fn visit_path(&mut self, node: &'ast Path) {
        self.paths.push(node);
        visit::visit_path(self, node);
    }

    fn visit_expr_struct(&mut self, node: &'ast ExprStruct) {
        self.structs.push(node);
        visit::visit_expr_struct(self, node);
    }

    fn visit_expr_call(&mut self, node: &'ast ExprCall) {
        self.calls.push(node);
        visit::visit_expr_call(self, node);
    }
}

/// Each `DescriptorParts { .. }` of `file`, in order, as its fields by name.
pub(crate) fn descriptors(file: &File) -> Vec<BTreeMap<String, &Expr>> {
    fn fields(node: &ExprStruct) -> BTreeMap<String, &Expr> {
        let fields = node.fields.iter();
        fields
            .map(|field| (member_name(&field.member), &field.expr))
            .collect()
    }
    let structs = Nodes::of(file).structs.into_iter();
    let name = |node: &&ExprStruct| node.path.segments.last().unwrap().ident == "DescriptorParts";
    structs.filter(name).map(fields).collect()
}
