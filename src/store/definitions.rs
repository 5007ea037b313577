//! Association kinds and model associations.

use super::Store;
use super::commit::Held;
use crate::catalog::AssocDraft;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::kind::{AssociationKind, MAINLINE};
use crate::model_association::{ModelAssociation, NewModelAssociation};

impl Store {
    /// Defines a new association kind and returns its id. The six built-ins
    /// (`belong`, `group`, `bk_mainline`, `run`, `connect`, `default`) exist
    /// from the start.
    ///
    /// ```
    /// let store = assocstore::Store::new();
    /// let id = store.create_association_kind(assocstore::AssociationKind::new("backup", "backup"))?;
    /// assert_eq!(id, 7);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199014 `duplicated instances exist, fields [<bk_asst_id>] duplicated`
    /// when the kind exists; 1199010 `'bk_asst_id' unassigned` when it is empty.
    pub fn create_association_kind(&self, kind: AssociationKind) -> Result<i64> {
        let _writing = self.writable()?;
        let mut catalog = self.catalog.write();
        let kind = catalog.check_kind(kind)?;
        let id = kind.id;
        self.commit(Held::catalog(&mut catalog), &[Effect::AddKind(kind)])?;
        drop(catalog);
        self.after_write();
        Ok(id)
    }

    /// Every association kind, built-ins first, in id order.
    pub fn association_kinds(&self) -> Vec<AssociationKind> {
        self.catalog.read().kinds().to_vec()
    }

    /// Creates a model association and returns its id.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// let new = NewModelAssociation::new("bk_switch", "belong", "host", Mapping::OneToOne);
    /// assert_eq!(store.create_model_association(&new)?, 1);
    /// assert_eq!(store.create_model_association(&new).unwrap_err().code(), 1_101_038);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// Checked in this order: kind `bk_mainline` → 1101082; empty
    /// `bk_asst_id`, `bk_obj_id` or `bk_asst_obj_id` → 1101045; the same
    /// (source model, target model, kind) exists → 1101038; empty
    /// `bk_obj_asst_id` → 1199010; `bk_obj_asst_id` taken → 1199014; unknown
    /// kind → 1101072.
    pub fn create_model_association(&self, new: &NewModelAssociation) -> Result<i64> {
        let _writing = self.writable()?;
        if new.bk_asst_id == MAINLINE {
            return Err(Error::MainlineNotAllowed);
        }
        if new.bk_asst_id.is_empty() || new.bk_obj_id.is_empty() || new.bk_asst_obj_id.is_empty() {
            return Err(Error::ModelAssociationMissingParameters);
        }
        let draft = AssocDraft {
            obj_asst_id: &new.bk_obj_asst_id,
            name: &new.bk_obj_asst_name,
            src: self.models.intern(&new.bk_obj_id),
            dst: self.models.intern(&new.bk_asst_obj_id),
            kind: &new.bk_asst_id,
            mapping: new.mapping,
            on_delete: new.on_delete,
        };
        let mut catalog = self.catalog.write();
        let entry = catalog.check_assoc(&draft)?;
        let id = entry.id;
        let mut all = self.write_all();
        let held = Held {
            catalog: Some(&mut catalog),
            shards: Some(&mut all),
        };
        self.commit(held, &[Effect::AddModelAssociation(entry)])?;
        drop((all, catalog));
        self.after_write();
        Ok(id)
    }

    /// Deletes a model association by id. An unknown id is a silent success.
    ///
    /// Takes every shard lock for a moment, so that no create of this model
    /// association is in flight while it is checked and removed.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// let id = store.create_model_association(
    ///     &NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.delete_model_association(id)?;
    /// store.delete_model_association(id)?; // gone already: still Ok
    /// assert!(store.model_associations().is_empty());
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1101043 while any instance association uses it.
    pub fn delete_model_association(&self, id: i64) -> Result<()> {
        let _writing = self.writable()?;
        let mut catalog = self.catalog.write();
        let Some(entry) = catalog.by_id(id) else {
            return Ok(());
        };
        let mut all = self.write_all();
        if entry.live() > 0 {
            return Err(Error::ModelAssociationInUse);
        }
        let held = Held {
            catalog: Some(&mut catalog),
            shards: Some(&mut all),
        };
        self.commit(held, &[Effect::DeleteModelAssociation(entry)])?;
        drop((all, catalog));
        self.after_write();
        Ok(())
    }

    /// Every model association, in id order.
    pub fn model_associations(&self) -> Vec<ModelAssociation> {
        self.catalog.read().live().map(|a| a.to_public()).collect()
    }

    /// The model association named `bk_obj_asst_id`, if it exists.
    pub fn model_association(&self, bk_obj_asst_id: &str) -> Option<ModelAssociation> {
        self.catalog
            .read()
            .by_name(bk_obj_asst_id)
            .map(|a| a.to_public())
    }
}
