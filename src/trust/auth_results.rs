//! `Authentication-Results` (RFC 8601), the pure reader: the authserv-id of a header and the
//! results it states (`dmarc=pass header.from=example.test`, `dkim=pass header.d=...`).
//!
//! Only what [`super::attest`] needs is kept: method, result and the `header.*` properties.
//! Comments (`(…)`, nested) are dropped, quoted strings are unquoted, names are compared in
//! lower case. The work is one pass over the value; a value that is not a well-formed header
//! yields no results, never an error.

/// One `method=result` of a header, with its `ptype.property=value` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    /// Lower case, without a `/version`: `dmarc`, `dkim`, `spf`, ...
    pub method: String,
    /// Lower case: `pass`, `fail`, `none`, ...
    pub result: String,
    /// `(ptype.property in lower case, value)`, e.g. `("header.from", "example.test")`.
    pub properties: Vec<(String, String)>,
}

impl MethodResult {
    /// The value of `ptype.property` (e.g. `header.from`), when given.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One parsed Authentication-Results header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// Lower case: the host name of the server that wrote the header.
    pub authserv_id: String,
    pub results: Vec<MethodResult>,
}

/// At most this many results are read from one header (a real one has a handful).
const MAX_RESULTS: usize = 32;

/// Parses one header value. `None` when it has no authserv-id.
pub fn parse(value: &str) -> Option<AuthResults> {
    let text = without_comments(value);
    let mut parts = split_unquoted(&text, ';').into_iter();
    // authserv-id [ CFWS authres-version ]
    let authserv_id = parts
        .next()?
        .split_whitespace()
        .next()
        .map(|id| unquote(id).to_ascii_lowercase())
        .filter(|id| !id.is_empty() && !id.contains('='))?;
    let mut results = Vec::new();
    for part in parts.take(MAX_RESULTS) {
        if let Some(r) = method_result(&part) {
            results.push(r);
        }
    }
    Some(AuthResults {
        authserv_id,
        results,
    })
}

/// `method[/version]=result [reason=...] [ptype.property=value ...]`.
fn method_result(part: &str) -> Option<MethodResult> {
    let tokens = split_tokens(part);
    let mut tokens = tokens.iter();
    let (method, result) = tokens.next()?.split_once('=')?;
    let method = method.split('/').next().unwrap_or(method).trim();
    if method.is_empty() || method.eq_ignore_ascii_case("none") {
        return None;
    }
    let properties = tokens
        .filter_map(|t| t.split_once('='))
        .filter(|(k, _)| k.contains('.'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), unquote(v.trim()).to_string()))
        .collect();
    Some(MethodResult {
        method: method.to_ascii_lowercase(),
        result: unquote(result.trim()).to_ascii_lowercase(),
        properties,
    })
}

/// `value` without RFC 5322 comments (nested parentheses, `\` escapes), quoted strings kept.
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => {
                depth += 1;
                out.push(' ');
            }
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(if c == '\r' || c == '\n' { ' ' } else { c }),
            _ => {}
        }
    }
    out
}

/// Splits on `sep` outside quoted strings.
fn split_unquoted(text: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        let current = out.last_mut();
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(current) = current {
            current.push(c);
        }
    }
    out
}

/// The whitespace-separated tokens of a resinfo, where `a = b` is one token `a=b`.
fn split_tokens(part: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for word in split_unquoted(part.trim(), ' ') {
        let word = word.trim();
        if word.is_empty() {
            continue;
        }
        match tokens.last_mut() {
            Some(last) if last.ends_with('=') || word.starts_with('=') => last.push_str(word),
            _ => tokens.push(word.to_string()),
        }
    }
    tokens
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_opendmarc_header() {
        let ar =
            parse("mx.example.test; dmarc=pass (p=reject dis=none) header.from=Tier1.Example.test")
                .unwrap();
        assert_eq!(ar.authserv_id, "mx.example.test");
        assert_eq!(ar.results.len(), 1);
        assert_eq!(ar.results[0].method, "dmarc");
        assert_eq!(ar.results[0].result, "pass");
        assert_eq!(
            ar.results[0].property("header.from"),
            Some("Tier1.Example.test")
        );
    }

    #[test]
    fn several_results_folded_with_versions_and_comments() {
        let ar = parse(
            "MX.Example.Test 1;\r\n\tdkim=pass (2048-bit key; unprotected) header.d=acme.test \
             header.i=@acme.test header.b=\"abc;def\";\r\n\tspf = pass smtp.mailfrom=acme.test;\r\n \
             DMARC/1=PASS header.from=acme.test (policy=none)",
        )
        .unwrap();
        assert_eq!(ar.authserv_id, "mx.example.test");
        let methods: Vec<(&str, &str)> = ar
            .results
            .iter()
            .map(|r| (r.method.as_str(), r.result.as_str()))
            .collect();
        assert_eq!(
            methods,
            [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
        );
        assert_eq!(ar.results[0].property("header.d"), Some("acme.test"));
        assert_eq!(ar.results[0].property("header.b"), Some("abc;def"));
        assert_eq!(ar.results[1].property("smtp.mailfrom"), Some("acme.test"));
    }

    #[test]
    fn comments_cannot_smuggle_a_result() {
        let ar = parse("mx.example.test; spf=fail (dmarc=pass header.from=x.test) smtp.mailfrom=x")
            .unwrap();
        assert_eq!(ar.results.len(), 1);
        assert_eq!(ar.results[0].method, "spf");
        assert!(ar.results[0].property("header.from").is_none());
        let nested = parse("mx.test; dkim=fail (a (b; dmarc=pass) c) header.d=x.test").unwrap();
        assert_eq!(nested.results.len(), 1);
        assert_eq!(nested.results[0].result, "fail");
    }

    #[test]
    fn none_and_garbage() {
        let ar = parse("mx.example.test; none").unwrap();
        assert!(ar.results.is_empty());
        assert_eq!(parse(""), None);
        assert_eq!(parse("   ;dmarc=pass"), None);
        assert_eq!(
            parse("dmarc=pass header.from=x.test"),
            None,
            "no authserv-id"
        );
        let odd = parse("mx.test; =pass; dmarc; dkim=").unwrap();
        assert!(odd.results.iter().all(|r| r.method != "dmarc"));
    }

    #[test]
    fn many_results_are_capped() {
        let value = format!("mx.test{}", "; dkim=pass header.d=a.test".repeat(10_000));
        assert_eq!(parse(&value).unwrap().results.len(), MAX_RESULTS);
    }
}
