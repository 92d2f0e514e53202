//! Recursive-descent parser for single-event EQL, after the grammar of Elasticsearch's
//! `EqlBase.g4` (x-pack/plugin/eql/src/main/antlr): `not` binds tighter than `and`, which binds
//! tighter than `or`; a comparison joins two operator expressions; the `in`, `:`, `like`, `regex`
//! predicates bind to the primary expression before them.
//!
//! Stateful or multi-event constructs (`sequence`, `join`, `sample`, pipes) are reported as
//! [`QueryError`]s of kind `Unsupported` as soon as they are recognised.
use super::ast::{CompareOp, Kind, Literal, Node, PatternOp, Query};
use super::lexer::{tokenize, Span, Tok, Token};
use super::QueryError;

pub fn parse_query(src: &str) -> Result<Query, QueryError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        depth: 0,
    };
    let query = p.query()?;
    match &p.peek().tok {
        Tok::Eof => Ok(query),
        Tok::Punct("|") => {
            let bar = p.peek().span.clone();
            let pipe = p.toks.get(p.pos + 1);
            let (name, end) = match pipe {
                Some(Token {
                    tok: Tok::Ident(n),
                    span,
                }) => (n.clone(), span.end),
                _ => (String::new(), bar.end),
            };
            Err(QueryError::eql_unsupported(
                format!("pipes (`| {name}`) are not supported: they filter or aggregate over the result set, not one event"),
                bar.start..end,
            ))
        }
        _ => Err(p.expected("`and`, `or` or end of query")),
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Current recursion depth, bounded so hostile input cannot overflow the stack.
    depth: usize,
}

/// Deeper nesting (parentheses, `not`, signs) is refused; rules nest a handful of levels.
const MAX_DEPTH: usize = 128;

impl Parser {
    fn peek(&self) -> &Token {
        // `tokenize` always ends with Eof and `bump` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn is(&self, tok: &Tok) -> bool {
        &self.peek().tok == tok
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let hit = self.is(tok);
        if hit {
            self.bump();
        }
        hit
    }

    fn expected(&self, what: &str) -> QueryError {
        let t = self.peek();
        QueryError::eql_syntax(format!("expected {what}, found {}", t.tok), t.span.clone())
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Token, QueryError> {
        if self.is(tok) {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    /// Expects the `)` closing the `(` at `open`; the error points at both.
    fn close_paren(&mut self, open: &Span) -> Result<Span, QueryError> {
        if self.is(&Tok::Punct(")")) {
            return Ok(self.bump().span);
        }
        let t = self.peek();
        Err(QueryError::eql_syntax(
            format!("expected `)` to close `(`, found {}", t.tok),
            t.span.clone(),
        )
        .opened_at(open.clone()))
    }

    fn query(&mut self) -> Result<Query, QueryError> {
        let t = self.peek().clone();
        let category = match &t.tok {
            Tok::Keyword(k @ ("sequence" | "join" | "sample")) => {
                return Err(QueryError::eql_unsupported(
                    format!("{k} queries correlate several events and are stateful; only single-event queries are evaluated"),
                    t.span.clone(),
                )
                .with_help("a rule of this kind is listed as skipped; `any where ...` queries run"));
            }
            Tok::Keyword("any") => None,
            Tok::Ident(name) | Tok::Str(name) => Some((name.clone(), t.span.clone())),
            _ => return Err(self.expected("an event category (`any`, `process`, ...)")),
        };
        self.bump();
        self.expect(&Tok::Keyword("where"), "`where`")?;
        let condition = self.or()?;
        Ok(Query {
            category,
            condition,
        })
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, QueryError>,
    ) -> Result<T, QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(QueryError::eql_syntax(
                format!("expression nested more than {MAX_DEPTH} levels deep"),
                self.peek().span.clone(),
            ));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn or(&mut self) -> Result<Node, QueryError> {
        self.nested(Self::or_inner)
    }

    fn or_inner(&mut self) -> Result<Node, QueryError> {
        self.chain("or", Self::and, Kind::Or)
    }

    fn and(&mut self) -> Result<Node, QueryError> {
        self.chain("and", Self::not, Kind::And)
    }

    /// `operand (keyword operand)*`, kept flat (a long chain must not become a deep tree).
    fn chain(
        &mut self,
        keyword: &'static str,
        operand: fn(&mut Self) -> Result<Node, QueryError>,
        kind: fn(Vec<Node>) -> Kind,
    ) -> Result<Node, QueryError> {
        let first = operand(self)?;
        if !self.is(&Tok::Keyword(keyword)) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(&Tok::Keyword(keyword)) {
            items.push(operand(self)?);
        }
        let span = items[0].span.start..items[items.len() - 1].span.end;
        Ok(Node {
            kind: kind(items),
            span,
        })
    }

    fn not(&mut self) -> Result<Node, QueryError> {
        if self.is(&Tok::Keyword("not")) {
            let start = self.bump().span.start;
            let inner = self.nested(Self::not)?;
            let span = start..inner.span.end;
            return Ok(Node {
                kind: Kind::Not(Box::new(inner)),
                span,
            });
        }
        if let (Tok::Ident(rel), Tok::Keyword("of")) = (&self.peek().tok, self.peek_at(1)) {
            let span =
                self.peek().span.start..self.toks[(self.pos + 1).min(self.toks.len() - 1)].span.end;
            return Err(QueryError::eql_unsupported(
                format!("lineage check `{rel} of [...]` relates several events; only single-event queries are evaluated"),
                span,
            ));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, QueryError> {
        let left = self.additive()?;
        let op = match &self.peek().tok {
            Tok::Punct("==") => CompareOp::Eq,
            Tok::Punct("!=") => CompareOp::Ne,
            Tok::Punct("<") => CompareOp::Lt,
            Tok::Punct("<=") => CompareOp::Le,
            Tok::Punct(">") => CompareOp::Gt,
            Tok::Punct(">=") => CompareOp::Ge,
            Tok::Punct("=") => {
                return Err(QueryError::eql_syntax(
                    "`=` is not a comparison, use `==`",
                    self.peek().span.clone(),
                )
                .with_help("`==` compares exactly; `:` compares case-insensitively"))
            }
            _ => return Ok(left),
        };
        self.bump();
        let right = self.additive()?;
        let span = left.span.start..right.span.end;
        Ok(Node {
            kind: Kind::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        })
    }

    fn additive(&mut self) -> Result<Node, QueryError> {
        let mut left = self.multiplicative()?;
        while let Tok::Punct(op @ ("+" | "-")) = self.peek().tok {
            self.bump();
            let right = self.multiplicative()?;
            let span = left.span.start..right.span.end;
            left = Node {
                kind: Kind::Arithmetic(op),
                span,
            };
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Node, QueryError> {
        let mut left = self.unary()?;
        while let Tok::Punct(op @ ("*" | "/" | "%")) = self.peek().tok {
            self.bump();
            let right = self.unary()?;
            let span = left.span.start..right.span.end;
            left = Node {
                kind: Kind::Arithmetic(op),
                span,
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        if let Tok::Punct(op @ ("-" | "+")) = self.peek().tok {
            let start = self.bump().span.start;
            let inner = self.nested(Self::unary)?;
            // A signed number literal stays a literal.
            let kind = match (op, inner.kind) {
                ("-", Kind::Literal(Literal::Int(n))) => Kind::Literal(Literal::Int(-n)),
                ("-", Kind::Literal(Literal::Float(f))) => Kind::Literal(Literal::Float(-f)),
                ("+", k @ Kind::Literal(Literal::Int(_) | Literal::Float(_))) => k,
                _ => Kind::Arithmetic(op),
            };
            return Ok(Node {
                kind,
                span: start..inner.span.end,
            });
        }
        let primary = self.primary()?;
        self.predicate(primary)
    }

    fn predicate(&mut self, value: Node) -> Result<Node, QueryError> {
        let negated = self.is(&Tok::Keyword("not"))
            && matches!(self.peek_at(1), Tok::Keyword("in") | Tok::Keyword("in~"));
        if negated {
            self.bump();
        }
        let op_tok = self.peek().clone();
        let start = value.span.start;
        match op_tok.tok {
            Tok::Keyword(kw @ ("in" | "in~")) => {
                self.bump();
                let open = self.expect(&Tok::Punct("("), "`(` after `in`")?.span;
                let mut list = vec![self.or()?];
                while self.eat(&Tok::Punct(",")) {
                    list.push(self.or()?);
                }
                let end = self.close_paren(&open)?.end;
                Ok(Node {
                    kind: Kind::In {
                        value: Box::new(value),
                        list,
                        negated,
                        case_insensitive: kw == "in~",
                    },
                    span: start..end,
                })
            }
            Tok::Punct(":") | Tok::Keyword("like" | "like~" | "regex" | "regex~") => {
                let op = match op_tok.tok {
                    Tok::Keyword("like") => PatternOp::Like {
                        case_insensitive: false,
                    },
                    Tok::Keyword("like~") => PatternOp::Like {
                        case_insensitive: true,
                    },
                    Tok::Keyword("regex") => PatternOp::Regex {
                        case_insensitive: false,
                    },
                    Tok::Keyword("regex~") => PatternOp::Regex {
                        case_insensitive: true,
                    },
                    _ => PatternOp::Seq,
                };
                self.bump();
                let (patterns, end) = if self.is(&Tok::Punct("(")) {
                    let open = self.bump().span;
                    let mut list = vec![self.constant()?];
                    while self.eat(&Tok::Punct(",")) {
                        list.push(self.constant()?);
                    }
                    (list, self.close_paren(&open)?.end)
                } else {
                    let c = self.constant()?;
                    let end = c.span.end;
                    (vec![c], end)
                };
                Ok(Node {
                    kind: Kind::Pattern {
                        op,
                        value: Box::new(value),
                        patterns,
                    },
                    span: start..end,
                })
            }
            _ => Ok(value),
        }
    }

    fn constant(&mut self) -> Result<Node, QueryError> {
        let t = self.peek().clone();
        let lit = match t.tok {
            Tok::Str(s) => Literal::Str(s),
            Tok::Int(n) => Literal::Int(n),
            Tok::Float(f) => Literal::Float(f),
            Tok::Keyword("true") => Literal::Bool(true),
            Tok::Keyword("false") => Literal::Bool(false),
            Tok::Keyword("null") => Literal::Null,
            _ => return Err(self.expected("a constant (string, number, boolean or null)")),
        };
        self.bump();
        Ok(Node {
            kind: Kind::Literal(lit),
            span: t.span,
        })
    }

    fn primary(&mut self) -> Result<Node, QueryError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Str(_) | Tok::Int(_) | Tok::Float(_) | Tok::Keyword("true" | "false" | "null") => {
                self.constant()
            }
            Tok::Punct("(") => {
                self.bump();
                let inner = self.or()?;
                let end = self.close_paren(&t.span)?.end;
                Ok(Node {
                    kind: inner.kind,
                    span: t.span.start..end,
                })
            }
            Tok::Ident(name) | Tok::TildeIdent(name) if self.peek_at(1) == &Tok::Punct("(") => {
                let case_insensitive = matches!(t.tok, Tok::TildeIdent(_));
                let name = name.clone();
                self.bump();
                let open = self.bump().span;
                let mut args = Vec::new();
                if !self.is(&Tok::Punct(")")) {
                    args.push(self.or()?);
                    while self.eat(&Tok::Punct(",")) {
                        args.push(self.or()?);
                    }
                }
                let end = self.close_paren(&open)?.end;
                Ok(Node {
                    kind: Kind::Call {
                        name,
                        case_insensitive,
                        args,
                    },
                    span: t.span.start..end,
                })
            }
            Tok::Punct("?") => {
                self.bump();
                let mut field = self.qualified_name()?;
                field.span.start = t.span.start;
                if let Kind::Field(name) = field.kind {
                    field.kind = Kind::OptionalField(name);
                }
                Ok(field)
            }
            Tok::Ident(_) | Tok::QuotedIdent(_) => self.qualified_name(),
            _ => Err(self.expected("a field, function, constant or `(`")),
        }
    }

    /// `identifier (. identifier | [ INTEGER ])*`, e.g. `aws.cloudtrail.request_parameters`,
    /// `` `my field`.x ``.
    fn qualified_name(&mut self) -> Result<Node, QueryError> {
        let start = self.peek().span.start;
        let mut name = self.identifier()?;
        let mut end = start;
        let mut indexed = false;
        loop {
            end = self.toks[self.pos.saturating_sub(1)].span.end.max(end);
            if self.is(&Tok::Punct(".")) {
                self.bump();
                name.push('.');
                name.push_str(&self.identifier()?);
            } else if self.is(&Tok::Punct("[")) {
                let open = self.bump().span;
                if !matches!(self.peek().tok, Tok::Int(_)) {
                    return Err(self.expected("an array index"));
                }
                self.bump();
                if !self.is(&Tok::Punct("]")) {
                    return Err(QueryError::eql_syntax(
                        "expected `]`",
                        open.start..self.peek().span.end,
                    ));
                }
                self.bump();
                indexed = true;
            } else {
                break;
            }
        }
        Ok(Node {
            kind: if indexed {
                Kind::IndexedField(name)
            } else {
                Kind::Field(name)
            },
            span: start..end,
        })
    }

    fn identifier(&mut self) -> Result<String, QueryError> {
        match &self.peek().tok {
            Tok::Ident(n) | Tok::QuotedIdent(n) => {
                let n = n.clone();
                self.bump();
                Ok(n)
            }
            _ => Err(self.expected("a field name")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::query::ErrorKind;

    fn cond(src: &str) -> Kind {
        parse_query(src).unwrap().condition.kind
    }

    #[test]
    fn not_binds_tighter_than_and_and_and_than_or() {
        let k = cond("any where not a == 1 and b == 2 or c == 3");
        let Kind::Or(items) = k else { panic!("{k:?}") };
        let Kind::And(ref inner) = items[0].kind else {
            panic!()
        };
        assert!(matches!(inner[0].kind, Kind::Not(_)));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn reads_category_predicates_and_calls() {
        let q = parse_query(
            r#"iam where f : ("a", "b") and stringContains~(g, "x") and h not in~ ("y")"#,
        )
        .unwrap();
        assert_eq!(q.category, Some(("iam".into(), 0..3)));
        let Kind::And(items) = q.condition.kind else {
            panic!()
        };
        let [p, c, r] = &items[..] else { panic!() };
        assert!(matches!(
            r.kind,
            Kind::In {
                negated: true,
                case_insensitive: true,
                ..
            }
        ));
        assert!(
            matches!(p.kind, Kind::Pattern { op: PatternOp::Seq, ref patterns, .. } if patterns.len() == 2)
        );
        assert!(matches!(
            c.kind,
            Kind::Call {
                case_insensitive: true,
                ..
            }
        ));
    }

    #[test]
    fn field_spans_cover_the_dotted_path() {
        let q = parse_query("any where a.b.`c d` == 1").unwrap();
        let Kind::Compare { left, .. } = q.condition.kind else {
            panic!()
        };
        assert_eq!(left.kind, Kind::Field("a.b.c d".into()));
        assert_eq!(left.span, 10..19);
    }

    #[test]
    fn unclosed_paren_points_at_the_opening_one() {
        let err = parse_query("any where (a == 1").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax);
        assert_eq!(err.span, 17..17, "the caret sits where `)` was expected");
        assert_eq!(err.opened_at, Some(10..11));
    }

    #[test]
    fn sequences_joins_samples_and_pipes_are_unsupported() {
        for (q, word) in [
            ("sequence [any where true] [any where true]", "sequence"),
            ("join [any where true] [any where true]", "join"),
            ("sample by x [any where true] [any where true]", "sample"),
            ("any where true | head 1", "head"),
            ("any where descendant of [any where true]", "descendant"),
        ] {
            match parse_query(q) {
                Err(QueryError {
                    kind: ErrorKind::Unsupported,
                    message: m,
                    ..
                }) => assert!(m.contains(word), "{m}"),
                other => panic!("{q}: {other:?}"),
            }
        }
    }

    #[test]
    fn syntax_errors_carry_spans() {
        let err = parse_query("any where a ==").unwrap_err();
        assert!(
            matches!(err, QueryError { kind: ErrorKind::Syntax, span, .. } if span == (14..14))
        );
        let err = parse_query("any where a = 1").unwrap_err();
        assert!(
            matches!(err, QueryError { kind: ErrorKind::Syntax, span, .. } if span == (12..13))
        );
        assert!(matches!(
            parse_query("process a == 1"),
            Err(QueryError {
                kind: ErrorKind::Syntax,
                ..
            })
        ));
    }
}
