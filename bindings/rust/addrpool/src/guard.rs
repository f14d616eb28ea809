//! [`ReservationGuard`]: a hand-out that returns itself unless kept.
use std::fmt;
use std::ops::Deref;

use crate::pool::{AddressPool, Reservation};

/// A reservation that is released (by ticket) when the guard is dropped —
/// on an early `return`, a `?`, a panic, or a cancelled `.await` — unless
/// [`keep`](ReservationGuard::keep) or [`mark_used`](ReservationGuard::mark_used)
/// consumed it first. Derefs to its [`Reservation`]. Made by
/// [`AddressPool::reserve_guard`].
///
/// Because the release goes by ticket, a guard dropped late — after a sweep
/// expired its reservation and the index went to someone else — leaves the
/// new holder alone.
///
/// ```
/// use addrpool::{AddressPool, AddressState, Error, KeySource, Network, PoolType};
///
/// fn checkout(pool: &AddressPool, keys: &KeySource, pay_now: bool) -> Result<String, Error> {
///     let guard = pool.reserve_guard(keys)?;
///     if !pay_now {
///         return Err(Error::new(addrpool::ErrorCode::InvalidArgument, "cancelled"));  // released here
///     }
///     Ok(guard.keep().address.to_string())  // kept: still reserved
/// }
///
/// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
/// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
/// assert!(checkout(&pool, &keys, false).is_err());
/// assert_eq!(pool.state(0), AddressState::Unused);
/// assert_eq!(checkout(&pool, &keys, true)?, "yRd4FhXfVGHXpsuZXPNkMrfD9GVj46pnjt");
/// assert_eq!(pool.state(0), AddressState::Reserved);
/// # Ok::<(), addrpool::Error>(())
/// ```
pub struct ReservationGuard<'a> {
    pool: &'a AddressPool,
    // Some until keep / mark_used / release consume the guard.
    reservation: Option<Reservation>,
}

impl<'a> ReservationGuard<'a> {
    pub(crate) fn new(pool: &'a AddressPool, reservation: Reservation) -> ReservationGuard<'a> {
        ReservationGuard { pool, reservation: Some(reservation) }
    }

    /// Keeps the reservation (no release on drop) and returns it: the caller
    /// now returns it with [`AddressPool::release`] or completes it with
    /// [`AddressPool::mark_used`], or lets a sweep expire it.
    ///
    /// ```
    /// use addrpool::{AddressPool, AddressState, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let r = pool.reserve_guard(&keys)?.keep();
    /// assert_eq!(pool.state(r.index), AddressState::Reserved);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn keep(mut self) -> Reservation {
        self.take()
    }

    /// Marks the address used (the payment arrived; the hand-out is
    /// complete) and consumes the guard. True if the index changed to used
    /// (false if it already was). The address was shown to someone, so it is
    /// marked used even if a sweep had expired this reservation meanwhile.
    ///
    /// ```
    /// use addrpool::{AddressPool, AddressState, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// assert!(pool.reserve_guard(&keys)?.mark_used());
    /// assert_eq!(pool.state(0), AddressState::Used);
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn mark_used(mut self) -> bool {
        let r = self.take();
        self.pool.mark_index_used(r.index)
    }

    /// Releases now (as dropping does) and reports whether it changed
    /// anything: false if the reservation had already been swept (and
    /// perhaps handed to someone else, who keeps it).
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// assert!(pool.reserve_guard(&keys)?.release());
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn release(mut self) -> bool {
        let r = self.take();
        self.pool.release(&r)
    }

    /// The pool the reservation belongs to.
    ///
    /// ```
    /// use addrpool::{AddressPool, KeySource, Network, PoolType};
    /// let keys = KeySource::from_xpub("tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba")?;
    /// let pool = AddressPool::new("m/0", PoolType::External, 20, Network::Testnet)?;
    /// let g = pool.reserve_guard(&keys)?;
    /// assert!(std::ptr::eq(g.pool(), &pool));
    /// # Ok::<(), addrpool::Error>(())
    /// ```
    pub fn pool(&self) -> &'a AddressPool {
        self.pool
    }

    fn take(&mut self) -> Reservation {
        match self.reservation.take() {
            Some(r) => r,
            None => unreachable!("a ReservationGuard is consumed only once"),
        }
    }
}

impl Deref for ReservationGuard<'_> {
    type Target = Reservation;

    fn deref(&self) -> &Reservation {
        match &self.reservation {
            Some(r) => r,
            None => unreachable!("a consumed ReservationGuard cannot be reached"),
        }
    }
}

impl Drop for ReservationGuard<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.reservation.take() {
            self.pool.release(&r);
        }
    }
}

impl fmt::Debug for ReservationGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReservationGuard").field(&self.reservation).finish()
    }
}
