//! Where a model comes from: account snapshots, Terraform plans, CloudFormation templates, or
//! several of them at once.
//!
//! Snapshots are the live account; plans and templates are changes to it (or, alone, the
//! account they would leave). Loading makes the snapshots first, then each plan, then each
//! template, and last checks the names chosen at creation against every policy
//! ([`crate::terraform::generated`]).

use crate::cloudformation::TemplateInputs;
use crate::input::InputError;
use crate::model::Model;
use std::path::PathBuf;

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Snapshot folders, one per account.
    pub accounts: Vec<PathBuf>,
    /// Terraform plans or states, as `terraform show -json` prints them.
    pub terraform: Vec<PathBuf>,
    /// CloudFormation templates (JSON or YAML).
    pub templates: Vec<PathBuf>,
    /// The account plans and templates act in when they do not tell; template parameters and
    /// stack name.
    pub inputs: TemplateInputs,
}

/// Which side of the changes to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Before the plans and templates: the snapshots, or for plans alone, their prior state.
    Before,
    /// The account the plans and templates would leave.
    After,
}

impl Sources {
    /// Just snapshot folders.
    pub fn snapshots(accounts: &[PathBuf]) -> Sources {
        Sources {
            accounts: accounts.to_vec(),
            ..Sources::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.terraform.is_empty() && self.templates.is_empty()
    }

    /// The account after every plan and template.
    pub fn load(&self) -> Result<Model, InputError> {
        self.load_side(Side::After)
    }

    /// The account before or after the plans and templates: over snapshots, the snapshots as
    /// they are (before) or changed (after); plans alone, their prior state or the state they
    /// would leave; templates alone, nothing before them.
    pub fn load_side(&self, side: Side) -> Result<Model, InputError> {
        let mut model = if self.accounts.is_empty() {
            Model::default()
        } else {
            crate::snapshot::load(&self.accounts)?
        };
        if side == Side::Before && !self.accounts.is_empty() {
            return Ok(model);
        }
        let account = self.inputs.account.as_deref();
        for plan in &self.terraform {
            crate::terraform::apply_file(&mut model, plan, account, side)?;
        }
        if side == Side::After {
            for template in &self.templates {
                crate::cloudformation::apply_file(&mut model, template, &self.inputs)?;
            }
        }
        crate::terraform::generated::check(&mut model);
        Ok(model)
    }
}
