//! Lowering of the EQL syntax tree to the engine IR, reproducing what Elasticsearch's EQL planner
//! sends to Lucene for a single-event query (x-pack/plugin/eql: parser/ExpressionBuilder,
//! optimizer/Optimizer, planner/QueryTranslator; x-pack/plugin/ql: planner/ExpressionTranslators).
//! See elastic-semantics.md §3.
use std::net::IpAddr;

use super::ast::{CompareOp, Kind, Literal, Node, PatternOp, Query};
use super::QueryError;
use crate::engine::{
    Cidr, Expr, Literal as Lit, Matcher, RangeOp, Regexp, RegexpError, Wildcard, WildcardToken,
};

pub fn lower(query: &Query, src: &str, event_category_field: &str) -> Result<Expr, QueryError> {
    let cx = Lowering { src };
    let condition = cx.condition(&query.condition)?;
    Ok(match &query.category {
        None => condition,
        // LogicalPlanBuilder.visitEventFilter: `<category> where c` is `Equals(<event category
        // field>, "<category>") and c`, an exact case-sensitive term query.
        Some((category, _)) => and(vec![
            field(
                event_category_field,
                Matcher::Equals(Lit::Str(category.clone())),
            ),
            condition,
        ]),
    })
}

struct Lowering<'s> {
    src: &'s str,
}

fn field(path: &str, matcher: Matcher) -> Expr {
    Expr::Field {
        path: path.to_owned(),
        matcher,
    }
}

fn and(parts: Vec<Expr>) -> Expr {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Expr::And(inner) => out.extend(inner),
            Expr::True => {}
            other => out.push(other),
        }
    }
    match out.len() {
        0 => Expr::True,
        1 => out.remove(0),
        _ => Expr::And(out),
    }
}

fn or(parts: Vec<Expr>) -> Expr {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Expr::Or(inner) => out.extend(inner),
            Expr::False => {}
            other => out.push(other),
        }
    }
    match out.len() {
        0 => Expr::False,
        1 => out.remove(0),
        _ => Expr::Or(out),
    }
}

impl Lowering<'_> {
    fn text(&self, node: &Node) -> &str {
        self.src.get(node.span.clone()).unwrap_or("")
    }

    fn unsupported(&self, node: &Node, why: &str) -> QueryError {
        QueryError::eql_unsupported(
            format!(
                "{why}: `{}` (bytes {}..{})",
                self.text(node),
                node.span.start,
                node.span.end
            ),
            node.span.clone(),
        )
    }

    fn condition(&self, node: &Node) -> Result<Expr, QueryError> {
        match &node.kind {
            // ExpressionTranslators.Nots: a must_not, so a document missing the field satisfies it.
            Kind::Not(inner) => Ok(Expr::Not(Box::new(self.condition(inner)?))),
            Kind::And(items) => Ok(and(items
                .iter()
                .map(|n| self.condition(n))
                .collect::<Result<_, _>>()?)),
            Kind::Or(items) => Ok(or(items
                .iter()
                .map(|n| self.condition(n))
                .collect::<Result<_, _>>()?)),
            Kind::Literal(Literal::Bool(true)) => Ok(Expr::True),
            Kind::Literal(Literal::Bool(false)) => Ok(Expr::False),
            Kind::Compare { op, left, right } => self.compare(node, *op, left, right),
            Kind::In {
                value,
                list,
                negated,
                case_insensitive,
            } => {
                let path = self.field_path(value)?;
                let mut alternatives = Vec::new();
                for item in list {
                    let lit = self.literal(item)?;
                    alternatives.push(if *case_insensitive {
                        // `in~` = or of InsensitiveEquals = term queries with case_insensitive.
                        let Lit::Str(s) = lit else {
                            return Err(self.unsupported(item, "`in~` with a non-string value"));
                        };
                        field(path, Matcher::EqualsIgnoreCase(s.to_lowercase()))
                    } else {
                        if lit == Lit::Null {
                            return Err(self.unsupported(item, "`null` inside `in (...)`"));
                        }
                        // `in` = In → a terms query: exact, case-sensitive.
                        field(path, Matcher::Equals(lit))
                    });
                }
                let any = or(alternatives);
                Ok(if *negated {
                    Expr::Not(Box::new(any))
                } else {
                    any
                })
            }
            Kind::Pattern {
                op,
                value,
                patterns,
            } => {
                let path = self.field_path(value)?;
                let mut strings = Vec::new();
                for p in patterns {
                    let Lit::Str(pattern) = self.literal(p)? else {
                        return Err(self.unsupported(p, "a non-string pattern"));
                    };
                    strings.push(pattern);
                }
                let (seq, ci) = match *op {
                    PatternOp::Regex { case_insensitive } => {
                        return self.regex(path, &strings, patterns, case_insensitive)
                    }
                    PatternOp::Seq => (true, true),
                    PatternOp::Like { case_insensitive } => (false, case_insensitive),
                };
                let alternatives = strings
                    .iter()
                    .map(|pattern| {
                        // Optimizer.ReplaceWildcards: `:` with `*` or `?` becomes a
                        // case-insensitive Like; otherwise InsensitiveEquals (a term query with
                        // case_insensitive).
                        if seq && !pattern.contains(['*', '?']) {
                            field(path, Matcher::EqualsIgnoreCase(pattern.to_lowercase()))
                        } else {
                            like(path, pattern, ci)
                        }
                    })
                    .collect();
                Ok(or(alternatives))
            }
            Kind::Call {
                name,
                case_insensitive,
                args,
            } => self.call(node, name, *case_insensitive, args),
            Kind::Field(_) => Err(self.unsupported(node, "a bare field is not a condition")),
            Kind::Literal(_) => {
                Err(self.unsupported(node, "a non-boolean constant is not a condition"))
            }
            _ => Err(self.operand_error(node)),
        }
    }

    /// `regex` / `regex~`: eql Match.makeSubstitute makes one RLike of the patterns joined with
    /// `|`, translated to a Lucene `regexp` query (ql ExpressionTranslators.Likes).
    fn regex(
        &self,
        path: &str,
        strings: &[String],
        nodes: &[Node],
        ci: bool,
    ) -> Result<Expr, QueryError> {
        let span = node_span(nodes);
        match Regexp::new(&strings.join("|"), ci) {
            Ok(re) => Ok(field(path, Matcher::Regex(re))),
            Err(RegexpError::Unsupported(why)) => Err(QueryError::eql_unsupported(
                format!(
                    "regex pattern uses {why}: `{}` (bytes {}..{})",
                    self.src.get(span.clone()).unwrap_or(""),
                    span.start,
                    span.end
                ),
                span,
            )),
            Err(e @ RegexpError::Syntax { .. }) => Err(QueryError::eql_syntax(e.to_string(), span)),
        }
    }

    fn operand_error(&self, node: &Node) -> QueryError {
        let why = match &node.kind {
            Kind::OptionalField(_) => "optional fields (`?field`) are not supported",
            Kind::IndexedField(_) => "array indexes in field names are not supported",
            Kind::Arithmetic(_) => "arithmetic is evaluated by Elasticsearch as a script; not supported",
            Kind::Call { .. } => "a function used as a value is evaluated by Elasticsearch as a script; not supported",
            Kind::Literal(_) => "expected a field, found a constant",
            _ => "expected a field here",
        };
        self.unsupported(node, why)
    }

    fn field_path<'n>(&self, node: &'n Node) -> Result<&'n str, QueryError> {
        match &node.kind {
            Kind::Field(path) => Ok(path),
            _ => Err(self.operand_error(node)),
        }
    }

    fn literal(&self, node: &Node) -> Result<Lit, QueryError> {
        match &node.kind {
            Kind::Literal(l) => Ok(l.clone()),
            _ => Err(self.unsupported(
                node,
                "expected a constant (Elasticsearch compares fields only against constants)",
            )),
        }
    }

    fn compare(
        &self,
        node: &Node,
        op: CompareOp,
        left: &Node,
        right: &Node,
    ) -> Result<Expr, QueryError> {
        // A constant on the left is moved to the right (the optimizer's LiteralsOnTheRight).
        let (op, f, c) = match (&left.kind, &right.kind) {
            (Kind::Literal(_), Kind::Literal(_)) => {
                return Err(self.unsupported(node, "a comparison between two constants"))
            }
            (Kind::Literal(_), _) => (op.flipped(), right, left),
            _ => (op, left, right),
        };
        let path = self.field_path(f)?;
        if !matches!(c.kind, Kind::Literal(_)) {
            return Err(self.unsupported(
                node,
                "comparisons between fields are evaluated by Elasticsearch as a script; not supported",
            ));
        }
        let lit = self.literal(c)?;
        let range = |op: RangeOp| -> Result<Expr, QueryError> {
            match lit {
                Lit::Null | Lit::Bool(_) => {
                    Err(self.unsupported(node, "an ordering comparison with null or a boolean"))
                }
                ref bound => Ok(field(
                    path,
                    Matcher::Range {
                        op,
                        bound: bound.clone(),
                    },
                )),
            }
        };
        match op {
            // Optimizer.ReplaceNullChecks: `f == null` is IsNull (not exists), `f != null`
            // IsNotNull (exists).
            CompareOp::Eq if lit == Lit::Null => {
                Ok(Expr::Not(Box::new(field(path, Matcher::Exists))))
            }
            CompareOp::Ne if lit == Lit::Null => Ok(field(path, Matcher::Exists)),
            // `==` is a term query: exact and case-sensitive, `*` is literal
            // (QueryTranslatorTests.testLikeExactEqualsNoOptimization).
            CompareOp::Eq => Ok(field(path, Matcher::Equals(lit))),
            // ExpressionBuilder.visitComparison: `a != b` is `Not(Equals(a, b))`, a must_not.
            CompareOp::Ne => Ok(Expr::Not(Box::new(field(path, Matcher::Equals(lit))))),
            CompareOp::Lt => range(RangeOp::Lt),
            CompareOp::Le => range(RangeOp::Le),
            CompareOp::Gt => range(RangeOp::Gt),
            CompareOp::Ge => range(RangeOp::Ge),
        }
    }

    fn call(&self, node: &Node, name: &str, ci: bool, args: &[Node]) -> Result<Expr, QueryError> {
        // EqlFunctionRegistry.normalize lowercases names; only CaseInsensitiveScalarFunction
        // subclasses (startsWith, endsWith, stringContains, between, indexOf) take `~`.
        let lname = name.to_ascii_lowercase();
        let takes_tilde = matches!(
            lname.as_str(),
            "stringcontains" | "startswith" | "endswith" | "wildcard"
        );
        if ci && !takes_tilde {
            return Err(self.unsupported(
                node,
                &format!("function `{name}` has no case-insensitive `~` form"),
            ));
        }
        let string_arg = |i: usize| -> Result<String, QueryError> {
            let arg = &args[i];
            match self.literal(arg)? {
                Lit::Str(s) => Ok(s),
                _ => Err(self.unsupported(arg, &format!("`{name}` needs a string here"))),
            }
        };
        let arity = |ok: bool, want: &str| -> Result<(), QueryError> {
            if ok {
                Ok(())
            } else {
                Err(QueryError::eql_syntax(
                    format!(
                        "function `{name}` takes {want} arguments, got {}",
                        args.len()
                    ),
                    node.span.clone(),
                ))
            }
        };
        match lname.as_str() {
            "stringcontains" => {
                arity(args.len() == 2, "2")?;
                let path = self.field_path(&args[0])?;
                if let Kind::Field(needle) = &args[1].kind {
                    return Ok(Expr::FieldContainsField {
                        path: path.to_owned(),
                        needle_path: needle.clone(),
                        case_insensitive: ci,
                    });
                }
                // QueryTranslator.CaseInsensitiveScalarFunctions: a wildcard query
                // `"*" + substring + "*"`, the substring NOT escaped, so its `*`, `?` and `\` keep
                // their Lucene wildcard meaning (elastic-semantics.md §3).
                let s = string_arg(1)?;
                Ok(field(
                    path,
                    wildcard(lucene_wildcard(&format!("*{s}*"), ci), ci),
                ))
            }
            "endswith" => {
                arity(args.len() == 2, "2")?;
                let path = self.field_path(&args[0])?;
                // Same translator: wildcard query `"*" + suffix`, unescaped.
                let s = string_arg(1)?;
                Ok(field(
                    path,
                    wildcard(lucene_wildcard(&format!("*{s}"), ci), ci),
                ))
            }
            "startswith" => {
                arity(args.len() == 2, "2")?;
                let path = self.field_path(&args[0])?;
                // ql ExpressionTranslators.Scalars.doKnownTranslate: a prefix query, in which
                // nothing is a wildcard.
                let s = string_arg(1)?;
                let mut tokens = Vec::new();
                for c in s.chars() {
                    push_text(&mut tokens, c, ci);
                }
                tokens.push(WildcardToken::Any);
                Ok(field(path, wildcard(tokens, ci)))
            }
            "wildcard" => {
                arity(args.len() >= 2, "at least 2")?;
                let path = self.field_path(&args[0])?;
                // eql Wildcard (x-pack/plugin/eql/.../scalar/string/Wildcard.java) is a surrogate
                // for `or` of Like(field, toLikePattern(p)). Current Elasticsearch no longer
                // registers `wildcard` in EqlFunctionRegistry (rules use `like` instead); we keep
                // its last defined meaning, which is exactly `like`.
                let mut alternatives = Vec::new();
                for i in 1..args.len() {
                    alternatives.push(like(path, &string_arg(i)?, ci));
                }
                Ok(or(alternatives))
            }
            "cidrmatch" => {
                arity(args.len() >= 2, "at least 2")?;
                let path = self.field_path(&args[0])?;
                // QueryTranslator.Scalars: a terms query of the CIDR strings on the (ip) field.
                let mut alternatives = Vec::new();
                for (i, arg) in args.iter().enumerate().skip(1) {
                    let s = string_arg(i)?;
                    let cidr = parse_cidr(&s).ok_or_else(|| {
                        QueryError::eql_syntax(
                            format!("invalid CIDR or IP address {s:?}"),
                            arg.span.clone(),
                        )
                    })?;
                    alternatives.push(field(path, Matcher::Cidr(cidr)));
                }
                Ok(or(alternatives))
            }
            _ => Err(self.unsupported(
                node,
                &format!(
                    "function `{name}` is evaluated by Elasticsearch as a script; not implemented"
                ),
            )),
        }
    }
}

/// The span from the first to the last node.
fn node_span(nodes: &[Node]) -> std::ops::Range<usize> {
    let start = nodes.first().map_or(0, |n| n.span.start);
    let end = nodes.last().map_or(start, |n| n.span.end);
    start..end
}

fn wildcard(tokens: Vec<WildcardToken>, case_insensitive: bool) -> Matcher {
    Matcher::Wildcard(Wildcard {
        tokens,
        case_insensitive,
    })
}

/// EQL `like` / `like~` / `:` with wildcards / `wildcard()`: eql StringUtils.toLikePattern makes
/// `*` any run and `?` one character and everything else literal (a backslash included). The ql
/// ReplaceRegexMatch rule then turns a match-all pattern into IsNotNull (exists) and a pattern
/// without wildcards into an equality (QueryTranslatorTests.testLikeOptimization).
fn like(path: &str, pattern: &str, ci: bool) -> Expr {
    let mut tokens = Vec::new();
    for c in pattern.chars() {
        match c {
            '*' => tokens.push(WildcardToken::Any),
            '?' => tokens.push(WildcardToken::One),
            c => push_text(&mut tokens, c, ci),
        }
    }
    if !tokens.is_empty() && tokens.iter().all(|t| *t == WildcardToken::Any) {
        return field(path, Matcher::Exists);
    }
    if !tokens
        .iter()
        .any(|t| matches!(t, WildcardToken::Any | WildcardToken::One))
    {
        return field(
            path,
            if ci {
                Matcher::EqualsIgnoreCase(pattern.to_lowercase())
            } else {
                Matcher::Equals(Lit::Str(pattern.to_owned()))
            },
        );
    }
    field(path, wildcard(tokens, ci))
}

/// Lucene WildcardQuery syntax: `*` any run, `?` one character, `\` makes the next character
/// literal (a trailing `\` is itself literal).
fn lucene_wildcard(pattern: &str, ci: bool) -> Vec<WildcardToken> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => tokens.push(WildcardToken::Any),
            '?' => tokens.push(WildcardToken::One),
            '\\' => push_text(&mut tokens, chars.next().unwrap_or('\\'), ci),
            c => push_text(&mut tokens, c, ci),
        }
    }
    tokens
}

fn push_text(tokens: &mut Vec<WildcardToken>, c: char, ci: bool) {
    // Lucene folds case one code point at a time (AutomatonQueries.toCaseInsensitiveChar), as the
    // engine's wildcard matcher does.
    let c = if ci {
        c.to_lowercase().next().unwrap_or(c)
    } else {
        c
    };
    if let Some(WildcardToken::Text(t)) = tokens.last_mut() {
        t.push(c);
    } else {
        tokens.push(WildcardToken::Text(c.to_string()));
    }
}

/// `a.b.c.d/n`, an IPv6 CIDR, or a bare address (a one-address network).
fn parse_cidr(s: &str) -> Option<Cidr> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len {
        Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max)?,
        None => max,
    };
    Some(Cidr { addr, prefix_len })
}
