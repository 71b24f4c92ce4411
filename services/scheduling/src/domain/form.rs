//! Offline and contact forms (SCH-6): a form's definition is validated when
//! an admin saves it, and a submission is validated field by field against
//! it; every bad field is reported and nothing is kept on error.
use std::collections::{BTreeMap, BTreeSet};

use livedesk_platform::errors::FieldViolation;
use regex::Regex;

/// The kind of value a field holds (wire values of `FieldType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text = 1,
    Email = 2,
    Phone = 3,
    Number = 4,
    Select = 5,
    Checkbox = 6,
}

impl FieldKind {
    fn from_wire(v: i32) -> Option<Self> {
        Some(match v {
            1 => Self::Text,
            2 => Self::Email,
            3 => Self::Phone,
            4 => Self::Number,
            5 => Self::Select,
            6 => Self::Checkbox,
            _ => return None,
        })
    }
}

/// A field as it arrives from the API or the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawField {
    pub key: String,
    pub label: String,
    pub kind: i32,
    pub required: bool,
    pub options: Vec<String>,
    pub max_length: u32,
    pub pattern: String,
    pub min: f64,
    pub max: f64,
}

/// A validated field definition.
#[derive(Debug, Clone)]
pub struct Field {
    pub raw: RawField,
    kind: FieldKind,
    pattern: Option<Regex>,
}

/// Text limit when a field sets none.
const DEFAULT_MAX_LENGTH: u32 = 5000;
const MAX_MAX_LENGTH: u32 = 20_000;
const MAX_FIELDS: usize = 50;
/// Keys of the fields every form starts with (SCH-6).
pub const BUILT_IN: [&str; 3] = ["name", "email", "message"];

/// The built-in fields: name, email, message.
pub fn built_in_fields() -> Vec<RawField> {
    let f = |key: &str, label: &str, kind: FieldKind, max_length: u32| RawField {
        key: key.into(),
        label: label.into(),
        kind: kind as i32,
        required: true,
        max_length,
        ..Default::default()
    };
    vec![
        f("name", "Name", FieldKind::Text, 200),
        f("email", "Email", FieldKind::Email, 254),
        f("message", "Message", FieldKind::Text, DEFAULT_MAX_LENGTH),
    ]
}

/// A validated form definition: the built-in fields then the custom ones.
#[derive(Debug, Clone)]
pub struct FormSpec {
    pub fields: Vec<Field>,
}

impl FormSpec {
    /// Validates custom field definitions (`prefix` = `form.fields`).
    pub fn parse(custom: &[RawField], prefix: &str) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Vec::new();
        if custom.len() > MAX_FIELDS {
            v.push(FieldViolation::new(
                prefix,
                format!("at most {MAX_FIELDS} custom fields"),
            ));
        }
        let mut seen: BTreeSet<String> = BUILT_IN.iter().map(|k| (*k).to_owned()).collect();
        let mut fields: Vec<Field> = built_in_fields()
            .into_iter()
            .filter_map(|raw| Field::new(raw).ok())
            .collect();
        for (i, raw) in custom.iter().enumerate() {
            let path = format!("{prefix}[{i}]");
            let key = raw.key.trim();
            let key_ok = !key.is_empty()
                && key.len() <= 64
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                v.push(FieldViolation::new(
                    format!("{path}.key"),
                    "1 to 64 of a-z, 0-9, _",
                ));
            } else if !seen.insert(key.to_owned()) {
                v.push(FieldViolation::new(
                    format!("{path}.key"),
                    "duplicate key (name, email and message are built in)",
                ));
            }
            match Field::new(RawField {
                key: key.to_owned(),
                ..raw.clone()
            }) {
                Ok(f) => fields.push(f),
                Err((field, why)) => v.push(FieldViolation::new(format!("{path}.{field}"), why)),
            }
        }
        if v.is_empty() {
            Ok(Self { fields })
        } else {
            Err(v)
        }
    }

    /// The custom fields (without the built-in ones), for storage.
    pub fn custom(&self) -> Vec<RawField> {
        self.fields
            .iter()
            .skip(BUILT_IN.len())
            .map(|f| f.raw.clone())
            .collect()
    }

    /// Validates a submission field by field; returns the values in field
    /// order, text cleaned of card numbers (PCI) before anything stores it.
    pub fn validate(
        &self,
        values: &[(String, String)],
    ) -> Result<Vec<(String, String)>, Vec<FieldViolation>> {
        let mut v = Vec::new();
        let mut given: BTreeMap<&str, &str> = BTreeMap::new();
        for (key, value) in values {
            if !self.fields.iter().any(|f| f.raw.key == *key) {
                v.push(FieldViolation::new(
                    format!("values.{key}"),
                    "not a field of this form",
                ));
            } else if given.insert(key, value).is_some() {
                v.push(FieldViolation::new(format!("values.{key}"), "given twice"));
            }
        }
        let mut out = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            let value = given
                .get(f.raw.key.as_str())
                .map(|s| s.trim())
                .unwrap_or("");
            match f.check(value) {
                Ok(Some(clean)) => out.push((f.raw.key.clone(), clean)),
                Ok(None) => {}
                Err(why) => v.push(FieldViolation::new(format!("values.{}", f.raw.key), why)),
            }
        }
        if v.is_empty() { Ok(out) } else { Err(v) }
    }
}

impl Field {
    /// Validates one definition; the error names the bad attribute.
    fn new(raw: RawField) -> Result<Self, (&'static str, String)> {
        let kind = FieldKind::from_wire(raw.kind).ok_or((
            "type",
            "required: text, email, phone, number, select or checkbox".into(),
        ))?;
        if raw.label.trim().is_empty() || raw.label.chars().count() > 200 {
            return Err(("label", "1 to 200 characters".into()));
        }
        if raw.max_length > MAX_MAX_LENGTH {
            return Err(("max_length", format!("at most {MAX_MAX_LENGTH}")));
        }
        if kind == FieldKind::Select
            && (raw.options.is_empty() || raw.options.iter().any(|o| o.trim().is_empty()))
        {
            return Err(("options", "a select needs non-empty options".into()));
        }
        if !raw.min.is_finite() || !raw.max.is_finite() {
            return Err(("min", "bounds must be finite numbers".into()));
        }
        let pattern = match raw.pattern.trim() {
            "" => None,
            p if p.len() > 500 => return Err(("pattern", "at most 500 characters".into())),
            // Anchored: the whole value must match. The regex crate runs in
            // linear time, so a hostile pattern cannot stall a submission.
            p => Some(
                regex::RegexBuilder::new(&format!("^(?:{p})$"))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|_| ("pattern", "not a valid regular expression".to_string()))?,
            ),
        };
        Ok(Self { raw, kind, pattern })
    }

    /// Checks one value: `Ok(None)` = optional and empty.
    fn check(&self, value: &str) -> Result<Option<String>, String> {
        if value.is_empty() || (self.kind == FieldKind::Checkbox && value == "false") {
            return if self.raw.required {
                Err("required".into())
            } else {
                Ok(None)
            };
        }
        let max_len = if self.raw.max_length == 0 {
            DEFAULT_MAX_LENGTH
        } else {
            self.raw.max_length
        };
        if value.chars().count() > max_len as usize {
            return Err(format!("at most {max_len} characters"));
        }
        match self.kind {
            FieldKind::Text => {
                if self.pattern.as_ref().is_some_and(|p| !p.is_match(value)) {
                    return Err("does not have the expected format".into());
                }
                Ok(Some(livedesk_pii::mask_pci(value).into_string()))
            }
            FieldKind::Email => livedesk_platform::EmailAddress::parse(value)
                .map(|e| Some(e.into_string()))
                .map_err(|_| "not an email address".into()),
            FieldKind::Phone => {
                let digits = value.chars().filter(char::is_ascii_digit).count();
                let allowed = value
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
                if allowed && (6..=20).contains(&digits) {
                    Ok(Some(value.to_owned()))
                } else {
                    Err("not a phone number".into())
                }
            }
            FieldKind::Number => {
                let n: f64 = value
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or("not a number")?;
                // Bounds apply when the definition sets a range (min < max).
                if self.raw.min < self.raw.max && (n < self.raw.min || n > self.raw.max) {
                    return Err(format!(
                        "must be between {} and {}",
                        self.raw.min, self.raw.max
                    ));
                }
                Ok(Some(value.to_owned()))
            }
            FieldKind::Select if self.raw.options.iter().any(|o| o == value) => {
                Ok(Some(value.to_owned()))
            }
            FieldKind::Select => Err("not one of the options".into()),
            FieldKind::Checkbox if value == "true" => Ok(Some("true".into())),
            FieldKind::Checkbox => Err("must be true or false".into()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn custom() -> Vec<RawField> {
        let f = |key: &str, kind: FieldKind| RawField {
            key: key.into(),
            label: key.into(),
            kind: kind as i32,
            ..Default::default()
        };
        vec![
            RawField {
                required: true,
                pattern: "[A-Z]{2}-[0-9]{4}".into(),
                ..f("order", FieldKind::Text)
            },
            f("phone", FieldKind::Phone),
            RawField {
                min: 1.0,
                max: 10.0,
                ..f("qty", FieldKind::Number)
            },
            RawField {
                options: vec!["sales".into(), "support".into()],
                ..f("topic", FieldKind::Select)
            },
            RawField {
                required: true,
                ..f("consent", FieldKind::Checkbox)
            },
        ]
    }

    fn vals(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    // spec: SCH-6
    #[test]
    fn a_good_submission_passes_and_card_numbers_are_masked() {
        let spec = FormSpec::parse(&custom(), "form.fields").unwrap();
        let ok = spec
            .validate(&vals(&[
                ("name", "Ana"),
                ("email", "ana@example.com"),
                ("message", "card 4111 1111 1111 1111 please"),
                ("order", "AB-1234"),
                ("phone", "+33 6 12 34 56 78"),
                ("qty", "3"),
                ("topic", "sales"),
                ("consent", "true"),
            ]))
            .unwrap();
        assert_eq!(ok.len(), 8);
        assert!(
            !ok[2].1.contains("4111 1111 1111 1111"),
            "PCI masked before storage"
        );
    }

    // spec: SCH-6
    // spec: TEN-4
    #[test]
    fn every_bad_field_is_reported() {
        let spec = FormSpec::parse(&custom(), "form.fields").unwrap();
        let err = spec
            .validate(&vals(&[
                ("email", "not-an-email"),
                ("message", &"x".repeat(5001)),
                ("order", "ab-12"),
                ("phone", "call me"),
                ("qty", "11"),
                ("topic", "other"),
                ("consent", "false"),
                ("extra", "?"),
            ]))
            .unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "values.extra",
                "values.name",
                "values.email",
                "values.message",
                "values.order",
                "values.phone",
                "values.qty",
                "values.topic",
                "values.consent"
            ]
        );
    }

    // spec: TEN-4
    #[test]
    fn bad_definitions_are_refused() {
        let bad = vec![
            RawField {
                key: "email".into(),
                label: "E".into(),
                kind: 1,
                ..Default::default()
            },
            RawField {
                key: "Bad Key".into(),
                label: "B".into(),
                kind: 0,
                ..Default::default()
            },
            RawField {
                key: "pick".into(),
                label: "P".into(),
                kind: FieldKind::Select as i32,
                ..Default::default()
            },
            RawField {
                key: "re".into(),
                label: "R".into(),
                kind: 1,
                pattern: "(".into(),
                ..Default::default()
            },
        ];
        let err = FormSpec::parse(&bad, "form.fields").unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "form.fields[0].key",
                "form.fields[1].key",
                "form.fields[1].type",
                "form.fields[2].options",
                "form.fields[3].pattern"
            ]
        );
    }
}
