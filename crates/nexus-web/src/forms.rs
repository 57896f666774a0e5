//! What a form needs to come back after a mistake: the message for each field, and the
//! choices of its selects with the one that was picked.

/// Messages per field name, written for the person who typed ("Enter a price such as 12.50").
/// The empty name holds a message about the whole form ("Email or password is wrong").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors {
    errors: Vec<(String, String)>,
}

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message for `field`; a second message for the same field replaces the first, so
    /// one field never shows two.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        let message = message.into();
        match self.errors.iter_mut().find(|(name, _)| *name == field) {
            Some(entry) => entry.1 = message,
            None => self.errors.push((field, message)),
        }
    }

    pub fn with(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.add(field, message);
        self
    }

    /// A message about the whole form rather than one field.
    pub fn add_form(&mut self, message: impl Into<String>) {
        self.add("", message);
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn form(&self) -> Option<&str> {
        self.get("")
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Every message, in the order added.
    pub fn messages(&self) -> impl Iterator<Item = &str> {
        self.errors.iter().map(|(_, message)| message.as_str())
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }
}

/// One option of a `<select>`, radio group or checkbox list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            selected: false,
        }
    }

    pub fn selected_if(mut self, selected: bool) -> Self {
        self.selected = selected;
        self
    }

    /// Marks the choice whose value is `value`, clearing the others.
    pub fn select(choices: &mut [Choice], value: &str) {
        for choice in choices.iter_mut() {
            choice.selected = choice.value == value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_per_field() {
        let mut errors = FieldErrors::new();
        assert!(errors.is_empty());
        errors.add("email", "Enter an email address");
        errors.add("email", "This email is already used");
        errors.add_form("Check the fields in red");
        assert_eq!(errors.get("email"), Some("This email is already used"));
        assert_eq!(errors.get("password"), None);
        assert_eq!(errors.form(), Some("Check the fields in red"));
        assert_eq!(errors.len(), 2);
        let mut choices = vec![Choice::new("GHS", "Cedi"), Choice::new("XOF", "Franc")];
        Choice::select(&mut choices, "XOF");
        assert!(!choices[0].selected && choices[1].selected);
    }
}
