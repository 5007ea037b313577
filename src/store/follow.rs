//! Followers: [`Store::apply`] replays another store's change feed, and
//! [`Follower`] tails a leader in the same process.
//!
//! A follower's feed positions are the leader's: each applied event is
//! committed at the position it had on the leader (positions the leader
//! skipped are skipped here too), so "the events already applied" is
//! simply "positions below the follower's next one", which makes applying
//! idempotent and lets a follower resume from its own state, including
//! after a reopen of a durable follower.
//!
//! # One call, one commit
//!
//! `apply` holds the catalog and every shard for the whole call, so no
//! reader that takes a lock sees anything it does until it returns. It
//! checks and applies the events one by one (each sees the ones before it,
//! as replay does), and commits the consecutive ones together: one journal
//! record, one sync at `Immediate`, one publication, instead of one of each
//! per event.
//!
//! On a durable store the journal is written *after* the run is applied to
//! the shards but *before* the locks are released, which keeps the commit
//! step's promise that nothing unjournaled is ever visible:
//!
//! * the record table, which readers by id consult without a lock, holds
//!   the run's records *pending* (the posting tables can read them, readers
//!   and counts do not see them) until the journal holds them;
//! * if the write fails, the run's postings and registrations are taken
//!   back, newest first, before the locks go.
//!
//! So a durable store's run holds only effects that can be taken back
//! exactly (records created, instances registered: the bulk of any feed);
//! any other event ends the run and is committed alone through the
//! ordinary commit step. An in-memory store has no journal to fail and
//! applies and commits any run whole.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::Store;
use super::commit::Held;
use super::open::Origin;
use crate::catalog::Catalog;
use crate::durable::record::{AssocRow, Logged};
use crate::effect::Effect;
use crate::error::{Error, OpenFailure, Result};
use crate::feed::{Change, Cursor, Event, Since, WatchFilter};

impl Store {
    /// Applies events read from another store's feed ([`Store::events`]
    /// with the default filter), in order, each one committed as it was on
    /// the leader: ids, positions and all (a durable store journals the
    /// consecutive events of one call as one record, with one sync). Events at positions this store has already passed are skipped,
    /// so applying the same events twice changes nothing. Returns how many
    /// were applied.
    ///
    /// Each event is checked against this store's state as replay checks a
    /// journal record (the model association exists, the instance is
    /// registered, the mapping holds, the id is new …), so a follower's
    /// invariants hold whatever it is fed.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Since, Store, WatchFilter};
    /// let leader = Store::new();
    /// leader.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::OneToOne))?;
    /// leader.register_instances("a", [1])?;
    /// leader.register_instances("b", [2])?;
    /// let id = leader.create_instance_association("a_run_b", 1, 2)?;
    ///
    /// let follower = Store::new();
    /// let feed = leader.events(Since::Start, &WatchFilter::default(), 1000)?;
    /// follower.apply(&feed.events)?;
    /// assert_eq!(follower.apply(&feed.events)?, 0);
    /// assert_eq!(follower.instance_association(id), leader.instance_association(id));
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199006 naming `event <cursor>: <why>` for an event this store's
    /// state could not have produced (applied events before it stay); the
    /// durable errors of any write (1199061).
    pub fn apply(&self, events: &[Event]) -> Result<usize> {
        let _writing = self.writable()?;
        let mut applied = 0;
        let outcome = {
            let mut catalog = self.catalog.write();
            let mut all = self.write_all();
            let mut held = Held {
                catalog: Some(&mut catalog),
                shards: Some(&mut all),
            };
            // With every lock held no other commit moves the feed: the next
            // position is known here, not asked for each event.
            let mut next = self.feed.position().0;
            let mut run = Run::default();
            let result = events.iter().try_for_each(|event| {
                let position = event.cursor.position;
                if position < next {
                    return Ok(());
                }
                if position > next {
                    // Positions the leader skipped: void here too.
                    self.flush_run(&mut held, &mut run)?;
                    self.feed.advance_to(position);
                }
                self.apply_one(&mut held, &mut run, event)?;
                next = position + 1;
                applied += 1;
                Ok(())
            });
            // Events applied before a refused one stay (unless their
            // journal write fails: that error wins).
            self.flush_run(&mut held, &mut run).and(result)
        };
        self.after_write();
        outcome.map(|()| applied)
    }

    /// Checks one event against the state (with the run applied) and adds
    /// it to the run; an effect the run could not take back if its journal
    /// write failed is committed alone, after the run.
    fn apply_one(&self, held: &mut Held<'_, '_, '_>, run: &mut Run, event: &Event) -> Result<()> {
        let bad = |why: String| Error::ParamInvalid {
            field: format!("event {}: {why}", event.cursor),
        };
        // Replay's checks name a file; an event has none.
        let path = PathBuf::new();
        let origin = Origin {
            path: &path,
            offset: 0,
        };
        let (Some(catalog), Some(set)) = (held.catalog.as_deref(), held.shards.as_deref()) else {
            return Err(bad("internal: locks not held".into()));
        };
        let logged = logged(catalog, &event.change)
            .ok_or_else(|| bad("no such model association".into()))?;
        let effect = self
            .resolve(catalog, set, logged, &origin)
            .map_err(|e| bad(failure_text(&e)))?;
        if self.durable.is_none() {
            self.apply_effect(held, &effect);
        } else if let (
            Effect::Link {
                assoc,
                id,
                src,
                dst,
                slots,
            },
            Some(set),
        ) = (&effect, held.shards.as_deref_mut())
        {
            // Readers by id take no lock: its record stays pending until
            // the journal holds it.
            self.link_pending(set, assoc, *id, (*src, *dst), *slots);
        } else if matches!(effect, Effect::Register { .. }) {
            self.apply_effect(held, &effect);
        } else {
            self.flush_run(held, run)?;
            let held = Held {
                catalog: held.catalog.as_deref_mut(),
                shards: held.shards.as_deref_mut(),
            };
            return self.commit(held, std::slice::from_ref(&effect));
        }
        run.effects.push(effect);
        Ok(())
    }

    /// Commits a run of applied effects as one call: one journal record
    /// (and one sync at `Immediate`), then its records, then published. If
    /// the journal write fails the run is taken back, newest first, so
    /// nothing unjournaled stays visible.
    fn flush_run(&self, held: &mut Held<'_, '_, '_>, run: &mut Run) -> Result<()> {
        if run.effects.is_empty() {
            return Ok(());
        }
        let at = match &self.durable {
            Some(durable) => match durable.log(&run.effects, &self.feed) {
                Ok(at) => Some(at),
                Err(e) => {
                    for effect in run.effects.drain(..).rev() {
                        self.undo(held, &effect);
                    }
                    return Err(e);
                }
            },
            None => None,
        };
        if at.is_some() {
            for effect in &run.effects {
                if let Effect::Link { assoc, id, .. } = effect {
                    self.confirm_link(assoc, *id);
                }
            }
        }
        self.feed.publish(at, &run.effects);
        run.effects.clear();
        Ok(())
    }

    /// Takes back a run's applied effect on a durable store (a record's
    /// postings, or an instance registered).
    fn undo(&self, held: &mut Held<'_, '_, '_>, effect: &Effect) {
        let Some(set) = held.shards.as_deref_mut() else {
            return;
        };
        match effect {
            Effect::Link {
                assoc,
                id,
                src,
                dst,
                ..
            } => self.unlink_pending(set, assoc, *id, (*src, *dst)),
            Effect::Register { model, inst, .. } => {
                set.get_mut(self.shard_index(*inst))
                    .unregister(model.key, *inst);
            }
            _ => debug_assert!(false, "a run holds only links and registrations"),
        }
    }
}

/// The events of one `apply` call checked and applied, not yet committed.
#[derive(Default)]
struct Run {
    /// Their effects, in feed order.
    effects: Vec<Effect>,
}

/// What a replay check said, without the file and offset it has none of.
fn failure_text(e: &OpenFailure) -> String {
    match e {
        OpenFailure::Corrupt { what, .. } => what.clone(),
        other => other.to_string(),
    }
}

/// An event's change as replay takes it (`None`: a record of a model
/// association this store does not have).
fn logged(catalog: &Catalog, change: &Change) -> Option<Logged> {
    Some(match change {
        Change::Created(r) => Logged::Link {
            assoc: catalog.by_name_ref(&r.bk_obj_asst_id)?.id,
            id: r.id,
            src: r.bk_inst_id,
            dst: r.bk_asst_inst_id,
        },
        Change::Deleted(r) => Logged::Unlink {
            assoc: catalog.by_name_ref(&r.bk_obj_asst_id)?.id,
            id: r.id,
            src: r.bk_inst_id,
            dst: r.bk_asst_inst_id,
        },
        Change::KindAdded(kind) => Logged::AddKind((**kind).clone()),
        Change::ModelAssociationAdded(a) => Logged::AddModelAssociation(AssocRow {
            id: a.id,
            obj_asst_id: a.bk_obj_asst_id.clone(),
            name: a.bk_obj_asst_name.clone(),
            src: a.bk_obj_id.clone(),
            dst: a.bk_asst_obj_id.clone(),
            kind: a.bk_asst_id.clone(),
            mapping: a.mapping,
            on_delete: a.on_delete,
        }),
        Change::ModelAssociationDeleted { id, .. } => Logged::DeleteModelAssociation(*id),
        Change::ModelUsed { model } => Logged::UseModel(model.clone()),
        Change::ModelDefined { model, name, icon } => Logged::DefineModel {
            model: model.clone(),
            name: name.clone(),
            icon: icon.clone(),
        },
        Change::InstanceRegistered { model, inst, name } => Logged::Register {
            model: model.clone(),
            inst: *inst,
            name: name.clone(),
        },
        Change::InstanceUnregistered { model, inst } => Logged::Unregister {
            model: model.clone(),
            inst: *inst,
        },
    })
}

/// A store that tails a leader in the same process: each call reads the
/// leader's feed after the follower's position and applies it.
///
/// ```
/// use std::sync::Arc;
/// use assocstore::{Mapping, NewModelAssociation, Store, feed::Follower};
/// let leader = Arc::new(Store::new());
/// let follower = Follower::new(Arc::clone(&leader), Store::new());
/// leader.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
/// leader.register_instances("a", [1])?;
/// leader.register_instances("b", [2])?;
/// leader.create_instance_association("a_run_b", 1, 2)?;
/// follower.catch_up()?;
/// assert_eq!(follower.store().len(), 1);
/// # Ok::<(), assocstore::Error>(())
/// ```
#[derive(Debug)]
pub struct Follower {
    leader: Arc<Store>,
    store: Store,
}

/// Events a [`Follower`] reads from its leader at a time.
const FOLLOW_CHUNK: usize = 4096;

impl Follower {
    /// A follower applying `leader`'s feed into `store`: an empty store, or
    /// one that has only ever been fed this leader's feed (or opened from a
    /// copy of the leader's directory).
    pub fn new(leader: Arc<Store>, store: Store) -> Follower {
        Follower { leader, store }
    }

    /// The follower's store, for reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The leader's cursor up to which this follower has applied.
    pub fn cursor(&self) -> Cursor {
        self.leader
            .feed_cursor_at(self.store.feed_cursor().position())
    }

    /// Applies everything the leader has committed so far; returns how
    /// many events were applied.
    ///
    /// # Errors
    /// 1103007 when the leader no longer retains the events after the
    /// follower's position (bootstrap it again from a checkpoint); the
    /// errors of [`Store::apply`].
    pub fn catch_up(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let got = self.leader.events(
                Since::After(self.cursor()),
                &WatchFilter::default(),
                FOLLOW_CHUNK,
            )?;
            if got.events.is_empty() {
                return Ok(total);
            }
            total += self.store.apply(&got.events)?;
        }
    }

    /// Waits up to `timeout` for the leader's next events and applies them
    /// (and whatever else is there); returns how many were applied.
    ///
    /// # Errors
    /// As [`Follower::catch_up`].
    pub fn follow(&self, timeout: Duration) -> Result<usize> {
        let got = self.leader.wait_events(
            Since::After(self.cursor()),
            &WatchFilter::default(),
            FOLLOW_CHUNK,
            timeout,
        )?;
        let applied = self.store.apply(&got.events)?;
        Ok(applied + self.catch_up()?)
    }
}
