import { describe, expect, it } from 'vitest';
import { FreeCamera, MAX_ZOOM, MIN_ZOOM, PAN_SPEED } from '../../../client/game/free-camera.js';

describe('FreeCamera', () => {
  it('starts at the world centre showing it all, and cannot leave it at zoom 1', () => {
    const c = new FreeCamera(1000, 1000);
    expect(c.view()).toEqual({ x: 500, y: 500, zoom: MIN_ZOOM });
    c.pan([1, 0], 100);
    c.moveBy(-300, 200);
    expect(c.view()).toEqual({ x: 500, y: 500, zoom: MIN_ZOOM });
  });

  it('zoomed in, pans at a screen speed that does not depend on zoom, up to half a view from the edges', () => {
    const c = new FreeCamera(1000, 1000);
    c.zoomBy(2);
    c.pan([1, 0], 100);
    expect(c.x).toBeCloseTo(500 + PAN_SPEED / 20);
    c.zoomBy(2);
    c.pan([0, -1], 100);
    expect(c.y).toBeCloseTo(500 - PAN_SPEED / 40);
    c.moveBy(10_000, -10_000);
    expect(c.view()).toEqual({ x: 1000 - 125, y: 125, zoom: 4 });
    // Zooming out keeps the view inside the world.
    c.zoomBy(0.5);
    expect(c.view()).toEqual({ x: 750, y: 250, zoom: 2 });
  });

  it('zooms within its bounds, ignores nonsense; reset and a new world size recentre', () => {
    const c = new FreeCamera();
    for (let i = 0; i < 20; i++) c.zoomBy(1.25);
    expect(c.zoom).toBe(MAX_ZOOM);
    c.moveBy(Number.NaN, 1);
    c.pan([1, 1], -5);
    c.zoomBy(0);
    expect(c.view()).toEqual({ x: 500, y: 500, zoom: MAX_ZOOM });
    for (let i = 0; i < 20; i++) c.zoomBy(0.8);
    expect(c.zoom).toBe(MIN_ZOOM);
    c.setWorld(1000, 1000);
    c.setWorld(2000, 1000);
    expect(c.view()).toEqual({ x: 1000, y: 500, zoom: 1 });
    c.zoomBy(2);
    c.moveBy(50, 50);
    c.reset();
    expect(c.view()).toEqual({ x: 1000, y: 500, zoom: 1 });
  });
});
