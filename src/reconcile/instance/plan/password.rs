//! The root password: first start, change through the password Job, its Secrets.

use crate::api::keys::{PASSWORD_FINGERPRINT_ANNOTATION, annotation};
use crate::api::{ConditionType, JobState, MySQL, Reason};
use crate::manifests::{self};
use crate::reconcile::instance::snapshot::{Password, Read};
use crate::reconcile::instance::status::PasswordState;
use crate::reconcile::{Result, Step};

use super::{Inputs, Kind, Plan, Write, set_owner};

/// The status already says the server has the spec's password: there is no change in
/// flight, so nothing of one (the pending Secret) needs reading.
pub fn password_settled(instance: &MySQL) -> bool {
    instance
        .condition(ConditionType::PasswordSynced)
        .is_some_and(|c| c.reason() == Some(Reason::Synced))
}

impl Inputs<'_> {
    /// Keeps `NAME-credentials` (what the server and Jobs read) equal to the desired
    /// password. A change runs the password Job with the old password from that Secret
    /// and the new one from `NAME-credentials-next`; only its success swaps them.
    pub(super) fn password(&self, plan: &mut Plan) -> Result<Step<PasswordState>> {
        let names = self.names();
        let desired = match &self.snapshot.desired_password {
            Err(unreadable) => {
                let message = unreadable.to_string();
                return Ok(Step::Done(PasswordState::SecretMissing { message }));
            }
            Ok(desired) => desired,
        };
        let state = match &self.snapshot.credentials {
            // A first start (or a Secret lost before the server ever ran): the server
            // initialises with whatever the Secret holds, so just write it.
            None if self.snapshot.deployment.is_none() => {
                let secret = self.credentials_secret(&names.credentials_secret(), desired)?;
                plan.writes.push(Write::ApplySecret(secret));
                PasswordState::Synced
            }
            None => PasswordState::Failed {
                message: format!(
                    "Secret {} with the server's current password is missing; recreate it with the current password",
                    names.credentials_secret()
                ),
            },
            Some(live) if *live == desired.fingerprint() => {
                if self.snapshot.credentials_outdated {
                    // Written by a version without the option file the Jobs read.
                    let secret = self.credentials_secret(&names.credentials_secret(), desired)?;
                    plan.writes.push(Write::ApplySecret(secret));
                }
                // A change given up half-way (the spec went back) leaves the pending
                // Secret; once the status says Synced there is none to look for.
                if matches!(self.snapshot.pending_credentials, Read::Done(Some(_))) {
                    let pending = names.pending_credentials_secret();
                    plan.writes.push(Write::Delete(Kind::Secret, pending));
                }
                PasswordState::Synced
            }
            Some(_) => return self.password_change(plan, desired),
        };
        Ok(Step::Done(state))
    }

    fn password_change(&self, plan: &mut Plan, desired: &Password) -> Result<Step<PasswordState>> {
        let names = self.names();
        let fingerprint = manifests::password_fingerprint(&desired.0);
        let job_name = names.password_job();
        let state = match &self.snapshot.password_job {
            Some(job)
                if annotation(&job.metadata, PASSWORD_FINGERPRINT_ANNOTATION)
                    == Some(fingerprint.as_str()) =>
            {
                match JobState::of(job) {
                    JobState::Running => PasswordState::Changing,
                    JobState::Failed(message) => PasswordState::Failed { message },
                    JobState::Succeeded => {
                        plan.writes
                            .push(Write::FinishPasswordChange(desired.clone()));
                        PasswordState::Synced
                    }
                }
            }
            // A Job for an earlier password must finish before a new one starts, or
            // two Jobs could race on the server.
            Some(stale) if JobState::is_running(stale) => PasswordState::Changing,
            Some(_) => {
                plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
                return Ok(Step::wait(format!("replacing the finished Job {job_name}")));
            }
            None => {
                let pending = names.pending_credentials_secret();
                let secret = self.credentials_secret(&pending, desired)?;
                let mut job =
                    manifests::password_job(self.renderer, self.template_ctx, &fingerprint)?;
                set_owner(&mut job, self.owner);
                plan.writes.push(Write::ApplySecret(secret));
                plan.writes.push(Write::CreateJob(job));
                PasswordState::Changing
            }
        };
        Ok(Step::Done(state))
    }
}
