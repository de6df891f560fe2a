// Task templates the fake provider answers synth prompts with: small STEM modules of cooperating
// functions with validation, their suites, and buggy variants whose effect on the suite is known.
// Written for evalfleet; services/fake-provider/src/synth.test.ts runs each under real pytest.

/** A buggy variant of a template's module and what it does to the suite. */
export type TemplateBug = {
  description: string;
  /** `valid`: some tests fail, others pass; `passes`: no test fails; `breaks`: every test fails. */
  effect: 'valid' | 'passes' | 'breaks';
  /** The module with the bug: `from` replaced by `to` (once). */
  from: string;
  to: string;
  /** `valid` bugs: the test functions they fail (the others pass). */
  fails?: string[];
};

export type SynthTemplate = {
  id: string;
  summary: string;
  moduleName: string;
  framework: 'pytest' | 'unittest';
  outline: string[];
  module: string;
  tests: string;
  /** Functions of the module (the weak suite only checks that they exist). */
  functions: string[];
  bugs: TemplateBug[];
  /** A wrong expectation in the suite (`from` → `to`): the clean module then fails it every time. */
  wrongExpectation: { from: string; to: string };
};

const projectile: SynthTemplate = {
  id: 'projectile',
  summary: 'projectile motion launched from a height, without air resistance',
  moduleName: 'projectile',
  framework: 'pytest',
  outline: [
    'Validate speed, angle and height in one helper.',
    'Split the launch velocity into components.',
    'Solve the height equation for the flight time; derive the apex and the range.',
  ],
  functions: ['validate_launch', 'velocity_components', 'time_of_flight', 'max_height', 'horizontal_range'],
  module: `"""Projectile motion over flat ground, launched from a given height (no air resistance)."""
import math

G = 9.81


def validate_launch(speed, angle_deg, height=0.0):
    if speed <= 0:
        raise ValueError("speed must be positive")
    if not 0 < angle_deg < 90:
        raise ValueError("angle must be between 0 and 90 degrees")
    if height < 0:
        raise ValueError("height must not be negative")
    return math.radians(angle_deg)


def velocity_components(speed, angle_deg):
    theta = validate_launch(speed, angle_deg)
    return speed * math.cos(theta), speed * math.sin(theta)


def time_of_flight(speed, angle_deg, height=0.0):
    validate_launch(speed, angle_deg, height)
    _, vy = velocity_components(speed, angle_deg)
    return (vy + math.sqrt(vy * vy + 2 * G * height)) / G


def max_height(speed, angle_deg, height=0.0):
    validate_launch(speed, angle_deg, height)
    _, vy = velocity_components(speed, angle_deg)
    return height + vy * vy / (2 * G)


def horizontal_range(speed, angle_deg, height=0.0):
    vx, _ = velocity_components(speed, angle_deg)
    return vx * time_of_flight(speed, angle_deg, height)
`,
  tests: `import pytest

from projectile import horizontal_range, max_height, time_of_flight, validate_launch


def test_time_of_flight_from_the_ground():
    assert time_of_flight(20.0, 30.0) == pytest.approx(2 * 10.0 / 9.81, rel=1e-6)


def test_time_of_flight_from_a_cliff_is_longer():
    assert time_of_flight(20.0, 30.0, height=10.0) > time_of_flight(20.0, 30.0)


def test_max_height_adds_the_launch_height():
    assert max_height(20.0, 30.0) == pytest.approx(100 / (2 * 9.81), rel=1e-6)
    assert max_height(20.0, 30.0, height=5.0) == pytest.approx(5.0 + 100 / (2 * 9.81), rel=1e-6)


def test_complementary_angles_reach_equally_far():
    assert horizontal_range(25.0, 30.0) == pytest.approx(horizontal_range(25.0, 60.0), rel=1e-9)


def test_range_at_45_degrees():
    assert horizontal_range(25.0, 45.0) == pytest.approx(25.0**2 / 9.81, rel=1e-6)


@pytest.mark.parametrize("speed, angle, height", [(0.0, 30.0, 0.0), (10.0, 0.0, 0.0), (10.0, 90.0, 0.0), (10.0, 30.0, -1.0)])
def test_invalid_launch_rejected(speed, angle, height):
    with pytest.raises(ValueError):
        validate_launch(speed, angle, height)
`,
  bugs: [
    {
      description: 'max_height drops the launch height, so launches from a cliff report the apex above the cliff only.',
      effect: 'valid',
      fails: ['test_max_height_adds_the_launch_height'],
      from: '    return height + vy * vy / (2 * G)',
      to: '    return vy * vy / (2 * G)',
    },
    {
      description: "validate_launch's error message for a non-positive speed is reworded.",
      effect: 'passes',
      from: 'raise ValueError("speed must be positive")',
      to: 'raise ValueError("speed must be greater than zero")',
    },
    {
      description: 'The module imports a misspelled math module.',
      effect: 'breaks',
      from: 'import math\n',
      to: 'import maths as math\n',
    },
  ],
  wrongExpectation: { from: '25.0**2 / 9.81', to: '25.0**2 / 9.80' },
};

const orbits: SynthTemplate = {
  id: 'orbits',
  summary: "orbital periods and speeds around a central body (Kepler's third law, vis-viva, escape velocity)",
  moduleName: 'orbits',
  framework: 'unittest',
  outline: [
    'Check each input is positive in one helper.',
    'Compute mu = G M once.',
    "Apply Kepler's third law and the vis-viva equation; escape speed from mu.",
  ],
  functions: [
    'check_positive',
    'standard_parameter',
    'orbital_period',
    'vis_viva_speed',
    'escape_velocity',
    'circular_speed',
  ],
  module: `"""Orbital periods and speeds around a central body."""
import math

GRAVITATIONAL_CONSTANT = 6.674e-11


def check_positive(name, value):
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value


def standard_parameter(mass_kg):
    return GRAVITATIONAL_CONSTANT * check_positive("mass", mass_kg)


def orbital_period(semi_major_axis_m, mass_kg):
    a = check_positive("semi-major axis", semi_major_axis_m)
    return 2 * math.pi * math.sqrt(a**3 / standard_parameter(mass_kg))


def vis_viva_speed(radius_m, semi_major_axis_m, mass_kg):
    r = check_positive("radius", radius_m)
    a = check_positive("semi-major axis", semi_major_axis_m)
    if r > 2 * a:
        raise ValueError("radius beyond the orbit")
    return math.sqrt(standard_parameter(mass_kg) * (2 / r - 1 / a))


def escape_velocity(radius_m, mass_kg):
    return math.sqrt(2 * standard_parameter(mass_kg) / check_positive("radius", radius_m))


def circular_speed(radius_m, mass_kg):
    return vis_viva_speed(radius_m, radius_m, mass_kg)
`,
  tests: `import math
import unittest

from orbits import circular_speed, escape_velocity, orbital_period, standard_parameter, vis_viva_speed

EARTH_MASS = 5.972e24
EARTH_RADIUS = 6.371e6


class OrbitTests(unittest.TestCase):
    def test_standard_parameter_of_earth(self):
        self.assertAlmostEqual(standard_parameter(EARTH_MASS) / 3.986e14, 1.0, places=3)

    def test_low_orbit_period_is_about_ninety_minutes(self):
        period = orbital_period(EARTH_RADIUS + 400e3, EARTH_MASS)
        self.assertTrue(5500 < period < 5600, period)

    def test_escape_is_sqrt_two_times_circular(self):
        r = escape_velocity(EARTH_RADIUS, EARTH_MASS) / circular_speed(EARTH_RADIUS, EARTH_MASS)
        self.assertAlmostEqual(r, math.sqrt(2), places=9)

    def test_earth_escape_velocity(self):
        self.assertAlmostEqual(escape_velocity(EARTH_RADIUS, EARTH_MASS) / 11186.0, 1.0, places=2)

    def test_faster_at_periapsis(self):
        a = 10e6
        self.assertGreater(vis_viva_speed(7e6, a, EARTH_MASS), vis_viva_speed(13e6, a, EARTH_MASS))

    def test_invalid_inputs_rejected(self):
        with self.assertRaises(ValueError):
            orbital_period(-1.0, EARTH_MASS)
        with self.assertRaises(ValueError):
            standard_parameter(0.0)
        with self.assertRaises(ValueError):
            vis_viva_speed(3e7, 1e7, EARTH_MASS)


if __name__ == "__main__":
    unittest.main()
`,
  bugs: [
    {
      description: 'escape_velocity forgets the factor 2 under the square root and returns the circular speed.',
      effect: 'valid',
      fails: ['test_escape_is_sqrt_two_times_circular', 'test_earth_escape_velocity'],
      from: 'math.sqrt(2 * standard_parameter(mass_kg) / check_positive("radius", radius_m))',
      to: 'math.sqrt(standard_parameter(mass_kg) / check_positive("radius", radius_m))',
    },
    {
      description: "The error message of check_positive no longer names the quantity's unit.",
      effect: 'passes',
      from: 'raise ValueError(f"{name} must be positive")',
      to: 'raise ValueError(f"{name} must be strictly positive")',
    },
    {
      description: 'standard_parameter refers to a constant that is not defined.',
      effect: 'breaks',
      from: 'GRAVITATIONAL_CONSTANT = 6.674e-11\n',
      to: 'GRAVITATIONAL_CONSTANT = GRAVITY_CONSTANT\n',
    },
  ],
  wrongExpectation: {
    from: 'self.assertTrue(5500 < period < 5600, period)',
    to: 'self.assertTrue(5000 < period < 5400, period)',
  },
};

const stoichiometry: SynthTemplate = {
  id: 'stoichiometry',
  summary: 'molar masses from chemical formulas, amounts of substance and mass fractions',
  moduleName: 'stoichiometry',
  framework: 'pytest',
  outline: [
    'Tokenise the formula, rejecting unknown elements and stray text.',
    'Add up repeated elements.',
    'Weigh by atomic masses; derive moles and mass fractions.',
  ],
  functions: ['parse_formula', 'molar_mass', 'moles', 'mass_fraction'],
  module: String.raw`"""Molar masses from simple chemical formulas and the amounts they give."""
import re

ATOMIC_MASS = {"H": 1.008, "C": 12.011, "N": 14.007, "O": 15.999, "Na": 22.990, "Cl": 35.45, "S": 32.06}
_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)")


def parse_formula(formula):
    if not formula:
        raise ValueError("empty formula")
    counts = {}
    position = 0
    for match in _TOKEN.finditer(formula):
        if match.start() != position:
            raise ValueError(f"unexpected text at {position}")
        element, digits = match.groups()
        if element not in ATOMIC_MASS:
            raise ValueError(f"unknown element {element}")
        counts[element] = counts.get(element, 0) + (int(digits) if digits else 1)
        position = match.end()
    if position != len(formula):
        raise ValueError(f"unexpected text at {position}")
    return counts


def molar_mass(formula):
    return sum(ATOMIC_MASS[element] * count for element, count in parse_formula(formula).items())


def moles(mass_g, formula):
    if mass_g < 0:
        raise ValueError("mass must not be negative")
    return mass_g / molar_mass(formula)


def mass_fraction(formula, element):
    counts = parse_formula(formula)
    if element not in counts:
        return 0.0
    return ATOMIC_MASS[element] * counts[element] / molar_mass(formula)
`,
  tests: `import pytest

from stoichiometry import mass_fraction, molar_mass, moles, parse_formula


def test_parse_water():
    assert parse_formula("H2O") == {"H": 2, "O": 1}


def test_parse_two_letter_elements():
    assert parse_formula("NaCl") == {"Na": 1, "Cl": 1}


def test_repeated_elements_add_up():
    assert parse_formula("CH3OH") == {"C": 1, "H": 4, "O": 1}


def test_molar_mass_of_glucose():
    assert molar_mass("C6H12O6") == pytest.approx(180.156, abs=1e-3)


def test_moles_of_water():
    assert moles(36.03, "H2O") == pytest.approx(2.0, rel=1e-3)


def test_mass_fraction_of_oxygen_in_water():
    assert mass_fraction("H2O", "O") == pytest.approx(15.999 / 18.015, rel=1e-6)


def test_absent_element_has_no_mass_fraction():
    assert mass_fraction("NaCl", "O") == 0.0


@pytest.mark.parametrize("bad", ["", "h2o", "H2O!", "Xx2"])
def test_bad_formulas_rejected(bad):
    with pytest.raises(ValueError):
        parse_formula(bad)


def test_negative_mass_rejected():
    with pytest.raises(ValueError):
        moles(-1.0, "H2O")
`,
  bugs: [
    {
      description: 'parse_formula overwrites the count of an element that appears twice instead of adding to it.',
      effect: 'valid',
      fails: ['test_repeated_elements_add_up'],
      from: 'counts[element] = counts.get(element, 0) + (int(digits) if digits else 1)',
      to: 'counts[element] = int(digits) if digits else 1',
    },
    {
      description: 'The negative-mass error message is reworded.',
      effect: 'passes',
      from: 'raise ValueError("mass must not be negative")',
      to: 'raise ValueError("a mass cannot be negative")',
    },
    {
      description: 'The token pattern is compiled with an unbalanced parenthesis.',
      effect: 'breaks',
      from: String.raw`re.compile(r"([A-Z][a-z]?)(\d*)")`,
      to: String.raw`re.compile(r"([A-Z][a-z]?)(\d*")`,
    },
  ],
  wrongExpectation: { from: 'pytest.approx(180.156, abs=1e-3)', to: 'pytest.approx(180.56, abs=1e-3)' },
};

const weightedStats: SynthTemplate = {
  id: 'weighted-stats',
  summary: 'weighted means and variances, and inverse-variance combination of measurements',
  moduleName: 'weighted_stats',
  framework: 'pytest',
  outline: [
    'Validate values and weights together.',
    'Weighted mean, then the variance about it.',
    'Inverse-variance weights combine measurements.',
  ],
  functions: [
    'check_samples',
    'weighted_mean',
    'weighted_variance',
    'inverse_variance_weights',
    'combine_measurements',
  ],
  module: `"""Weighted summary statistics for measurements with uncertainties."""
import math


def check_samples(values, weights=None):
    if len(values) == 0:
        raise ValueError("no values")
    if weights is None:
        return [1.0] * len(values)
    if len(weights) != len(values):
        raise ValueError("weights and values differ in length")
    if any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    return list(weights)


def weighted_mean(values, weights=None):
    w = check_samples(values, weights)
    return sum(v * wi for v, wi in zip(values, w)) / sum(w)


def weighted_variance(values, weights=None):
    w = check_samples(values, weights)
    mean = weighted_mean(values, w)
    return sum(wi * (v - mean) ** 2 for v, wi in zip(values, w)) / sum(w)


def inverse_variance_weights(uncertainties):
    if any(u <= 0 for u in uncertainties):
        raise ValueError("uncertainties must be positive")
    return [1.0 / (u * u) for u in uncertainties]


def combine_measurements(values, uncertainties):
    w = inverse_variance_weights(uncertainties)
    return weighted_mean(values, w), 1.0 / math.sqrt(sum(w))
`,
  tests: `import math

import pytest

from weighted_stats import (
    check_samples,
    combine_measurements,
    inverse_variance_weights,
    weighted_mean,
    weighted_variance,
)


def test_unweighted_mean():
    assert weighted_mean([1.0, 2.0, 3.0, 4.0]) == pytest.approx(2.5)


def test_weighted_mean_leans_to_heavy_values():
    assert weighted_mean([0.0, 10.0], [1.0, 3.0]) == pytest.approx(7.5)


def test_variance_of_a_constant_is_zero():
    assert weighted_variance([5.0, 5.0, 5.0]) == pytest.approx(0.0)


def test_population_variance():
    assert weighted_variance([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == pytest.approx(4.0)


def test_inverse_variance_weights():
    assert inverse_variance_weights([0.5, 2.0]) == pytest.approx([4.0, 0.25])


def test_combined_measurement_and_uncertainty():
    mean, sigma = combine_measurements([10.0, 12.0], [1.0, 1.0])
    assert mean == pytest.approx(11.0)
    assert sigma == pytest.approx(1 / math.sqrt(2))


def test_mismatched_lengths_rejected():
    with pytest.raises(ValueError):
        check_samples([1.0, 2.0], [1.0])


@pytest.mark.parametrize("weights", [[0.0, 0.0], [-1.0, 2.0]])
def test_bad_weights_rejected(weights):
    with pytest.raises(ValueError):
        weighted_mean([1.0, 2.0], weights)


def test_no_values_rejected():
    with pytest.raises(ValueError):
        weighted_mean([])
`,
  bugs: [
    {
      description: 'combine_measurements returns one over the total weight, without the square root.',
      effect: 'valid',
      fails: ['test_combined_measurement_and_uncertainty'],
      from: 'return weighted_mean(values, w), 1.0 / math.sqrt(sum(w))',
      to: 'return weighted_mean(values, w), 1.0 / sum(w)',
    },
    {
      description: 'The empty-input error message is reworded.',
      effect: 'passes',
      from: 'raise ValueError("no values")',
      to: 'raise ValueError("values must not be empty")',
    },
    {
      description: 'A stray indent breaks the module.',
      effect: 'breaks',
      from: 'def weighted_mean(values, weights=None):\n',
      to: ' def weighted_mean(values, weights=None):\n',
    },
  ],
  wrongExpectation: { from: '== pytest.approx(7.5)', to: '== pytest.approx(5.0)' },
};

/** The templates valid tasks are drawn from. */
export const synthTemplates: readonly SynthTemplate[] = [projectile, orbits, stoichiometry, weightedStats];

/**
 * A Monte Carlo module whose suite asserts on unseeded estimates with a tolerance they meet about a
 * third of the time: 24 such tests never give the same outcomes twice in practice (a flaky suite).
 */
export const flakyTemplate: SynthTemplate = {
  id: 'monte-carlo',
  summary: 'Monte Carlo estimates of pi and of definite integrals',
  moduleName: 'monte_carlo',
  framework: 'pytest',
  outline: ['Validate the sample count.', 'Estimate pi and integrals from uniform random points.'],
  functions: ['check_samples', 'estimate_pi', 'estimate_integral'],
  module: `"""Monte Carlo estimates of areas and integrals."""
import random


def check_samples(n):
    if n <= 0:
        raise ValueError("n must be positive")
    return n


def estimate_pi(n):
    n = check_samples(n)
    inside = sum(1 for _ in range(n) if random.random() ** 2 + random.random() ** 2 <= 1.0)
    return 4.0 * inside / n


def estimate_integral(f, a, b, n):
    if b <= a:
        raise ValueError("empty interval")
    n = check_samples(n)
    return (b - a) * sum(f(random.uniform(a, b)) for _ in range(n)) / n
`,
  tests: `import math

import pytest

from monte_carlo import estimate_integral, estimate_pi


@pytest.mark.parametrize("trial", range(24))
def test_pi_estimate_is_close(trial):
    assert abs(estimate_pi(200) - math.pi) < 0.05


def test_integral_of_a_constant():
    assert estimate_integral(lambda x: 2.0, 0.0, 3.0, 50) == pytest.approx(6.0)


def test_invalid_sample_count_rejected():
    with pytest.raises(ValueError):
        estimate_pi(0)
`,
  bugs: [
    {
      description: 'estimate_pi forgets the factor 4.',
      effect: 'valid',
      from: 'return 4.0 * inside / n',
      to: 'return inside / n',
    },
  ],
  wrongExpectation: { from: 'pytest.approx(6.0)', to: 'pytest.approx(7.0)' },
};

/** A suite that only checks the module is documented and its functions exist: no bug can fail it. */
export function weakTests(t: SynthTemplate): string {
  return `import ${t.moduleName}


def test_module_is_documented():
    assert ${t.moduleName}.__doc__


def test_public_functions_exist():
    for name in ${JSON.stringify(t.functions)}:
        assert callable(getattr(${t.moduleName}, name))
`;
}

/** The template's module with one bug applied. */
export function applyBug(t: SynthTemplate, bug: TemplateBug): string {
  if (!t.module.includes(bug.from)) throw new Error(`template ${t.id}: bug text not found: ${bug.from}`);
  return t.module.replace(bug.from, bug.to);
}
