//! The one place a variable is declared.

/// Declares a group of variables: a `pub const NAME: Var` each (its doc comment says what it
/// means; the default is where the group reads it), and `pub const VARIABLES: &[Var]` listing
/// them all, so the list of known variables cannot miss one.
///
/// ```
/// picture_vars::declare! {
///     /// The address to listen on.
///     HOST,
///     /// The port to listen on (0 picks a free one).
///     PORT,
/// }
/// assert_eq!(PORT.name(), "PORT");
/// assert_eq!(VARIABLES, [HOST, PORT]);
/// ```
#[macro_export]
macro_rules! declare {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        $(
            $(#[$doc])*
            pub const $name: $crate::Var = $crate::Var::new(stringify!($name));
        )+

        /// Every variable declared in this module, in declaration order.
        pub const VARIABLES: &[$crate::Var] = &[$($name),+];
    };
}
