//! Request encoding: `application/x-www-form-urlencoded` bodies and URL path segments.
//!
//! The server parses at most about 1,001 form variables and silently drops the rest, so scalar
//! fields always come first and hostnames (`hostnames[]`, bracket keys) after them.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::model::{FolderAction, FolderPk, RuleAction};

use super::types::RuleTarget;

/// Everything but RFC 3986 unreserved characters: `*` becomes `%2A`, `/` becomes `%2F`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment, percent-encoded (a hostname like `*.example.com` -> `%2A.example.com`).
pub(crate) fn path_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// A form body built in the order fields are added.
pub(crate) struct Form(form_urlencoded::Serializer<'static, String>);

impl Form {
    pub(super) fn new() -> Self {
        Self(form_urlencoded::Serializer::new(String::new()))
    }

    /// The fields of a rule write, in the order the server needs: do, status, via, via_v6, group.
    pub(super) fn rule(action: &RuleAction, group: Option<FolderPk>) -> Self {
        let mut form = Self::new();
        form.field("do", action.kind.code());
        form.field("status", u8::from(action.enabled));
        form.optional("via", action.via.as_deref());
        form.optional("via_v6", action.via_v6.as_deref());
        form.optional("group", group);
        form
    }

    /// The fields of a folder write; `do` is omitted when the folder has no action.
    pub(super) fn folder(name: &str, action: &FolderAction) -> Self {
        let mut form = Self::new();
        form.optional("do", action.kind.map(|kind| kind.code()));
        form.field("status", u8::from(action.enabled));
        form.optional("via", action.via.as_deref());
        form.field("name", name);
        form
    }

    /// A filter write: `status` alone.
    pub(super) fn status(enabled: bool) -> Self {
        let mut form = Self::new();
        form.field("status", u8::from(enabled));
        form
    }

    /// A default-rule write: `do`, `status`, and `via` when the action has one (no `via_v6`).
    pub(super) fn default_rule(action: &RuleAction) -> Self {
        let mut form = Self::new();
        form.field("do", action.kind.code());
        form.field("status", u8::from(action.enabled));
        form.optional("via", action.via.as_deref());
        form
    }

    /// An option write: `status=1&value=...` to set, `status=0` to unset.
    pub(super) fn option(value: Option<&str>) -> Self {
        let mut form = Self::new();
        form.field("status", u8::from(value.is_some()));
        form.optional("value", value);
        form
    }

    /// `hostnames[]=a&hostnames[]=b`: a bare repeated key fails with "hostnames must be an array".
    pub(super) fn hostnames(mut self, hostnames: &[impl AsRef<str>]) -> Self {
        for hostname in hostnames {
            self.field("hostnames[]", hostname.as_ref());
        }
        self
    }

    pub(super) fn finish(mut self) -> String {
        self.0.finish()
    }

    fn field(&mut self, key: &str, value: impl ToString) {
        self.0.append_pair(key, &value.to_string());
    }

    fn optional(&mut self, key: &str, value: Option<impl ToString>) {
        if let Some(value) = value {
            self.field(key, value);
        }
    }
}

/// The `group` field of a rule PUT: `0` moves to the root.
pub(crate) fn target_group(target: RuleTarget) -> FolderPk {
    match target {
        // The API's `group` for the root: no folder has PK 0.
        RuleTarget::Root => FolderPk::new(0),
        RuleTarget::Folder(pk) => pk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActionKind;

    fn keys(body: &str) -> Vec<String> {
        form_urlencoded::parse(body.as_bytes())
            .map(|(key, _)| key.into_owned())
            .collect()
    }

    #[test]
    fn rule_form_puts_scalars_before_hostnames() {
        let action = RuleAction {
            kind: ActionKind::Spoof,
            enabled: false,
            via: Some("1.2.3.4".into()),
            via_v6: Some("::1".into()),
        };
        let hosts = vec!["a.example".to_string(), "b.example".to_string()];
        let body = Form::rule(&action, Some(FolderPk::new(42)))
            .hostnames(&hosts)
            .finish();
        assert_eq!(
            body,
            "do=2&status=0&via=1.2.3.4&via_v6=%3A%3A1&group=42\
             &hostnames%5B%5D=a.example&hostnames%5B%5D=b.example"
        );
        assert_eq!(
            keys(&body),
            [
                "do",
                "status",
                "via",
                "via_v6",
                "group",
                "hostnames[]",
                "hostnames[]"
            ]
        );
    }

    #[test]
    fn rule_form_without_group_targets_the_root() {
        let body = Form::rule(&RuleAction::block(), None).finish();
        assert_eq!(body, "do=0&status=1");
    }

    #[test]
    fn folder_form_omits_do_without_action() {
        let body = Form::folder("Most Abused TLDs", &FolderAction::none()).finish();
        assert_eq!(body, "status=1&name=Most+Abused+TLDs");
        let body = Form::folder("Ads", &FolderAction::of(ActionKind::Allow)).finish();
        assert_eq!(body, "do=1&status=1&name=Ads");
    }

    #[test]
    fn settings_forms() {
        assert_eq!(Form::status(true).finish(), "status=1");
        assert_eq!(Form::status(false).finish(), "status=0");
        let redirect = RuleAction {
            kind: ActionKind::Redirect,
            enabled: false,
            via: Some("LOCAL".into()),
            via_v6: Some("::1".into()),
        };
        assert_eq!(
            Form::default_rule(&redirect).finish(),
            "do=3&status=0&via=LOCAL"
        );
        assert_eq!(
            Form::default_rule(&RuleAction::allow()).finish(),
            "do=1&status=1"
        );
        assert_eq!(Form::option(Some("0.7")).finish(), "status=1&value=0.7");
        assert_eq!(Form::option(None).finish(), "status=0");
    }

    #[test]
    fn path_segment_encodes_wildcards_and_slashes() {
        assert_eq!(path_segment("*.example.com"), "%2A.example.com");
        assert_eq!(path_segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(
            path_segment("xn--bcher-kva.example"),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn move_to_root_is_group_zero() {
        assert_eq!(target_group(RuleTarget::Root).get(), 0);
        assert_eq!(target_group(RuleTarget::Folder(FolderPk::new(7))).get(), 7);
    }
}
