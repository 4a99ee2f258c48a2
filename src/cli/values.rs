//! The values an argument accepts, for clap to check and to list in `--help` (`[possible
//! values: …]`): ticket status and priority, and the archive formats of `import --format`.
//! Matched without regard to case, as their `FromStr` always did.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::domain::{Priority, Status};
use crate::import::Format;

impl ValueEnum for Status {
    fn value_variants<'a>() -> &'a [Self] {
        Status::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for Priority {
    fn value_variants<'a>() -> &'a [Self] {
        Priority::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Mbox, Format::Maildir, Format::Eml]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_listed_under_its_stored_name() {
        for status in Status::ALL {
            assert_eq!(
                <Status as ValueEnum>::from_str(status.as_str(), true),
                Ok(*status)
            );
        }
        for priority in Priority::ALL {
            assert_eq!(
                <Priority as ValueEnum>::from_str(priority.as_str(), true),
                Ok(*priority)
            );
        }
        for format in Format::value_variants() {
            assert_eq!(format.as_str().parse::<Format>().ok(), Some(*format));
        }
        assert_eq!(
            <Status as ValueEnum>::from_str("Pending", true),
            Ok(Status::Pending)
        );
    }
}
