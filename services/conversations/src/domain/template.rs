//! Canned responses with placeholders (CNV-5): `<customer.name>`,
//! `<agent.name>`, `<request.id>`, `<conversation.id>`. Unknown
//! placeholders are refused when the template is saved, so rendering
//! never meets one.
use livedesk_platform::errors::FieldViolation;

/// Placeholders a template may use.
pub const PLACEHOLDERS: [&str; 4] = [
    "customer.name",
    "agent.name",
    "request.id",
    "conversation.id",
];

/// Most characters in a template body.
const BODY_MAX: usize = 5000;

/// A template body whose every placeholder is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateBody(String);

/// The values placeholders are replaced with.
#[derive(Debug, Clone, Default)]
pub struct TemplateValues {
    pub customer_name: String,
    pub agent_name: String,
    pub request_id: String,
    pub conversation_id: String,
}

/// Splits a body into literal text and placeholder names.
fn segments(body: &str) -> Result<Vec<(bool, &str)>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find(['<', '>']) {
        if rest[open..].starts_with('>') {
            return Err("a '>' without its '<'".into());
        }
        out.push((false, &rest[..open]));
        let after = &rest[open + 1..];
        let close = after.find('>').ok_or("a '<' without its '>'")?;
        let name = &after[..close];
        if name.contains('<') {
            return Err("placeholders cannot be nested".into());
        }
        out.push((true, name));
        rest = &after[close + 1..];
    }
    out.push((false, rest));
    Ok(out)
}

impl TemplateBody {
    /// Checks length and that every `<placeholder>` is known.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        if raw.trim().is_empty() {
            return Err(FieldViolation::new("body", "must not be empty"));
        }
        if raw.chars().count() > BODY_MAX {
            return Err(FieldViolation::new(
                "body",
                format!("at most {BODY_MAX} characters"),
            ));
        }
        for (is_placeholder, name) in segments(raw).map_err(|m| FieldViolation::new("body", m))? {
            if is_placeholder && !PLACEHOLDERS.contains(&name) {
                return Err(FieldViolation::new(
                    "body",
                    format!(
                        "unknown placeholder <{name}>; known: {}",
                        PLACEHOLDERS.map(|p| format!("<{p}>")).join(", ")
                    ),
                ));
            }
        }
        Ok(Self(raw.to_owned()))
    }

    /// The body as saved.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Replaces every placeholder, giving the editable text.
    pub fn render(&self, v: &TemplateValues) -> String {
        let Ok(parts) = segments(&self.0) else {
            return self.0.clone();
        };
        parts
            .into_iter()
            .map(|(is_placeholder, s)| match (is_placeholder, s) {
                (false, text) => text,
                (true, "customer.name") => &v.customer_name,
                (true, "agent.name") => &v.agent_name,
                (true, "request.id") => &v.request_id,
                (true, "conversation.id") => &v.conversation_id,
                (true, _) => "",
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // spec: CNV-5
    #[test]
    fn known_placeholders_render_unknown_ones_are_refused_at_save() {
        let t = TemplateBody::parse("Hello <customer.name>, I am <agent.name> (ref <request.id>).")
            .unwrap();
        let v = TemplateValues {
            customer_name: "Melissa".into(),
            agent_name: "Alice".into(),
            request_id: "R1".into(),
            ..Default::default()
        };
        assert_eq!(t.render(&v), "Hello Melissa, I am Alice (ref R1).");
        let err = TemplateBody::parse("Hi <customer.nmae>").unwrap_err();
        assert!(err.description.contains("<customer.nmae>"));
        assert!(TemplateBody::parse("a < b").is_err());
        assert!(TemplateBody::parse("a > b").is_err());
        assert!(TemplateBody::parse("").is_err());
    }

    proptest! {
        // spec: CNV-5
        #[test]
        fn a_rendered_template_has_no_placeholder_left(s in "[a-z <>.]{0,80}") {
            if let Ok(t) = TemplateBody::parse(&s) {
                let out = t.render(&TemplateValues::default());
                prop_assert!(!out.contains('<') && !out.contains('>'));
            }
        }
    }
}
