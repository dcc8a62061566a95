use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A status condition in the shape of `metav1.Condition`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: ConditionStatus,
    pub reason: String,
    #[serde(default)]
    pub message: String,
    /// RFC 3339 time at which `status` last changed.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl std::fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        })
    }
}

/// Sets a condition in `conditions`, keeping `lastTransitionTime` unless the status
/// really changes, so that recomputing the same state writes nothing new.
pub fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            if existing.status == new.status {
                new.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = new;
        }
        None => conditions.push(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(status: ConditionStatus, reason: &str, at: &str) -> Condition {
        Condition {
            type_: "Ready".into(),
            status,
            reason: reason.into(),
            message: String::new(),
            last_transition_time: at.into(),
            observed_generation: Some(1),
        }
    }

    #[test]
    fn same_status_keeps_the_transition_time() {
        let mut conditions = vec![cond(ConditionStatus::True, "A", "t1")];
        set_condition(&mut conditions, cond(ConditionStatus::True, "B", "t2"));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].last_transition_time, "t1");
        assert_eq!(conditions[0].reason, "B");
    }

    #[test]
    fn changed_status_moves_the_transition_time() {
        let mut conditions = vec![cond(ConditionStatus::True, "A", "t1")];
        set_condition(&mut conditions, cond(ConditionStatus::False, "A", "t2"));
        assert_eq!(conditions[0].last_transition_time, "t2");
        assert_eq!(conditions[0].status, ConditionStatus::False);
    }
}
