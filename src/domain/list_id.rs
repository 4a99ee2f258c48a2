//! `list_id_of`: the list id (RFC 2919) of a `List-Id` value or of a configured
//! `[tickets] own_lists` entry, as one lower-case string to compare.

/// The list id of `value` (`Description <id>`, `<id>` or a bare id), lower case; `None` when
/// it is not one.
pub fn list_id_of(value: &str) -> Option<String> {
    let inner = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    let id = inner.trim().to_ascii_lowercase();
    is_list_id(&id).then_some(id)
}

/// RFC 2919: `list-label "." namespace`, dot-atom text with at least one dot.
fn is_list_id(id: &str) -> bool {
    id.contains('.')
        && id.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ids() {
        assert_eq!(
            list_id_of("Desk <Desk.Example.Test>").as_deref(),
            Some("desk.example.test")
        );
        assert_eq!(
            list_id_of("desk.example.test").as_deref(),
            Some("desk.example.test")
        );
        assert_eq!(
            list_id_of("\"Customer questions\" <support.example.test>").as_deref(),
            Some("support.example.test")
        );
        for bad in ["<nodot>", "<a..b>", "", "not a list id", "<>"] {
            assert_eq!(list_id_of(bad), None, "{bad}");
        }
    }
}
